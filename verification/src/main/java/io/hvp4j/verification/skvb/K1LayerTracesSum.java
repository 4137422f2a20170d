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
 * K1 (docs/theory.md §D.4, §C.1): the layer blocks (weight and bias of each Linear layer) partition all parameters,
 * so Σ_l tr(H_l) = tr(H). Exact traces (unit products) of the full operator and of each layer-block operator
 * (which runs only the part of the backward pass the layer needs: a different product path).
 */
public final class K1LayerTracesSum extends AbstractCheck {
  public K1LayerTracesSum() {
    super("K1", Paper.SKVB, CheckKind.HARD, "Σ_l tr(H_l) = tr(H) over a partition of all parameters");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    out.configuration = SmallNets.CONFIGURATION + " with bias; relu, tanh, gelu x mse, ce, cosh; exact traces";
    out.expected = "relative difference ≤ 1e−12";
    double worst = 0;
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (SmallNets.Net n :
          SmallNets.of(
              ex,
              new Activation[] {Activation.RELU, Activation.TANH, Activation.GELU},
              Loss.values(),
              true)) {
        double full =
            TraceEstimators.exact(Operators.curvature(n.f(), Curvature.HESSIAN, -1), 32).value();
        double sum = 0, abs = 0;
        for (int l = 0; l < n.f().mlp().layers(); l++) {
          double t = TraceEstimators.exact(Operators.curvature(n.f(), Curvature.HESSIAN, l), 32).value();
          sum += t;
          abs += Math.abs(t);
        }
        double rel = Math.abs(sum - full) / Math.max(Math.abs(full), abs);
        worst = Math.max(worst, rel);
        out.passed &= rel <= 1e-12;
        out.detail("%s: tr(H) = %.15g, Σ tr(H_l) = %.15g, relative %.1e", n.name(), full, sum, rel);
      }
    }
    out.measured = "max relative difference " + g(worst);
  }
}
