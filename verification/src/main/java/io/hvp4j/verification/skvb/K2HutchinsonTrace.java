package io.hvp4j.verification.skvb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.TraceEstimators;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;

/**
 * K2 (docs/theory.md §D.4, §C.3): Hutchinson's estimate with m Rademacher probes is within 4 standard deviations of the
 * exact trace, for the full Hessian and each layer block; the standard deviation is the exact one,
 * √(2(‖A‖_F² − ‖diag A‖²)/m), from the dense matrix. Fixed seeds.
 */
public final class K2HutchinsonTrace extends AbstractCheck {
  public K2HutchinsonTrace() {
    super("K2", Paper.SKVB, CheckKind.HARD, "Hutchinson's T̂_m is unbiased (within 4σ of the exact trace)");
  }

  static final int PROBES = 10;

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    out.configuration =
        SmallNets.CONFIGURATION + " with bias; relu, tanh x mse, ce; m = 10 Rademacher probes; full + 3 layers";
    out.expected = "|T̂_m − tr| ≤ 4·√(2(‖A‖_F² − ‖diag A‖²)/m)";
    double worst = 0;
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (SmallNets.Net n :
          SmallNets.of(
              ex, new Activation[] {Activation.RELU, Activation.TANH}, new Loss[] {Loss.MSE, Loss.CE}, true)) {
        for (int l = -1; l < n.f().mlp().layers(); l++) {
          double[][] a = ex.dense(n.f(), Curvature.HESSIAN, l);
          double tr = 0, fro = 0, diag = 0;
          for (int i = 0; i < a.length; i++) {
            tr += a[i][i];
            diag += a[i][i] * a[i][i];
            for (double x : a[i]) fro += x * x;
          }
          double sd = Math.sqrt(2 * (fro - diag) / PROBES);
          double est =
              TraceEstimators.hutchinson(
                      Operators.curvature(n.f(), Curvature.HESSIAN, l),
                      PROBES,
                      TraceEstimators.Probe.RADEMACHER,
                      1000 + l,
                      16)
                  .value();
          double z = Math.abs(est - tr) / sd;
          worst = Math.max(worst, z);
          out.passed &= z <= 4;
          out.detail("%s %s: exact %.6g, T̂ %.6g, σ %.3g, |error|/σ = %.2f", n.name(),
              l < 0 ? "full" : "layer " + l, tr, est, sd, z);
        }
      }
    }
    out.measured = "max |error|/σ = " + g(worst);
  }
}
