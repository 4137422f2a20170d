package io.hvp4j.verification.skvb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import java.util.SplittableRandom;

/**
 * K6 (docs/theory.md §D.4, §C.2): the Gauss quadrature rule of k Lanczos steps (full re-orthogonalisation) from a start
 * vector v reproduces the moments exactly up to degree 2k − 1: Σ_j τ_j² θ_j^n = vᵀHⁿv/‖v‖² for n ≤ 2k − 1, where
 * Hⁿv is formed by repeated products with the dense Hessian. The error is measured relative to the absolute
 * moment Σ_j τ_j² |θ_j|^n (the natural scale of an odd moment of an indefinite matrix).
 */
public final class K6LanczosQuadrature extends AbstractCheck {
  public K6LanczosQuadrature() {
    super("K6", Paper.SKVB, CheckKind.HARD, "Lanczos quadrature moments are exact up to degree 2k − 1");
  }

  static final int STEPS = 8;

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    out.configuration =
        SmallNets.CONFIGURATION + " with bias; relu, tanh x mse, ce; k = " + STEPS + " steps, n = 0…" + (2 * STEPS - 1);
    out.expected = "relative error ≤ 1e−8";
    double worst = 0;
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (SmallNets.Net net :
          SmallNets.of(
              ex, new Activation[] {Activation.RELU, Activation.TANH}, new Loss[] {Loss.MSE, Loss.CE}, true)) {
        double[][] h = ex.dense(net.f(), Curvature.HESSIAN, -1);
        int p = h.length;
        SplittableRandom rng = new SplittableRandom(5);
        double[] v = new double[p];
        double vv = 0;
        for (int i = 0; i < p; i++) {
          v[i] = rng.nextDouble(-1, 1);
          vv += v[i] * v[i];
        }
        SpectralDensity.Quadrature q =
            SpectralDensity.quadrature(Operators.curvature(net.f(), Curvature.HESSIAN, -1), v, STEPS);
        double[] w = v.clone();
        double caseWorst = 0;
        for (int n = 0; n <= 2 * STEPS - 1; n++) {
          double exact = 0;
          for (int i = 0; i < p; i++) exact += v[i] * w[i];
          exact /= vv;
          double quad = 0, scale = 0;
          for (int j = 0; j < q.nodes().length; j++) {
            quad += q.weights()[j] * Math.pow(q.nodes()[j], n);
            scale += q.weights()[j] * Math.pow(Math.abs(q.nodes()[j]), n);
          }
          caseWorst = Math.max(caseWorst, Math.abs(quad - exact) / scale);
          double[] next = new double[p];
          for (int i = 0; i < p; i++) {
            double s = 0;
            for (int j = 0; j < p; j++) s += h[i][j] * w[j];
            next[i] = s;
          }
          w = next;
        }
        worst = Math.max(worst, caseWorst);
        out.passed &= caseWorst <= 1e-8;
        out.detail("%s: %d nodes, max relative moment error %.2e", net.name(), q.nodes().length, caseWorst);
      }
    }
    out.measured = "max relative error " + g(worst);
  }
}
