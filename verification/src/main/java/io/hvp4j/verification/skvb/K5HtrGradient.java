package io.hvp4j.verification.skvb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import java.util.SplittableRandom;

/**
 * K5 (docs/theory.md §D.4, §C.6): the gradient of the HTR penalty, ∇(vᵀHv) = D³L[v, v, ·], computed exactly by the
 * engine's third-order (Taylor-mode forward-over-reverse) pass, against the central difference of exact HVPs
 * (H(θ+εv)v − H(θ−εv)v)/(2ε) with ε = 1e−4·‖θ‖/‖v‖, in f64. Rademacher v on all parameters and on one layer
 * only; every activation × loss.
 */
public final class K5HtrGradient extends AbstractCheck {
  public K5HtrGradient() {
    super("K5", Paper.SKVB, CheckKind.HARD, "∇(vᵀHv) (third-order pass) = central difference of exact HVPs");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    out.configuration =
        SmallNets.CONFIGURATION + " with bias; every activation x {mse, ce, cosh}; v Rademacher on all / layer 1";
    out.expected = "relative error ≤ 1e−6";
    double worst = 0;
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (SmallNets.Net n : SmallNets.of(ex, Activation.values(), Loss.values(), true)) {
        Mlp mlp = n.f().mlp();
        double[] theta = n.f().parameters().toDoubleArray();
        for (int support = -1; support <= 1; support += 2) {
          SplittableRandom rng = new SplittableRandom(n.name().hashCode() + support);
          double[] v = new double[mlp.parameterCount()];
          for (int i = 0; i < v.length; i++) {
            boolean in = support < 0 || (i >= mlp.layerOffset(1) && i < mlp.layerOffset(2));
            v[i] = in ? (rng.nextBoolean() ? 1 : -1) : 0;
          }
          double rel = relativeError(ex, n.f(), theta, v);
          worst = Math.max(worst, rel);
          out.passed &= rel <= 1e-6;
          if (support < 0 || rel > 1e-6) {
            out.detail("%s (v on %s): relative error %.2e", n.name(), support < 0 ? "all" : "layer 1", rel);
          }
        }
      }
    }
    out.measured = "max relative error " + g(worst);
  }

  /** ‖D³L[v,v,·] − central difference‖/‖central difference‖; restores θ. */
  static double relativeError(Experiment ex, MlpObjective f, double[] theta, double[] v) {
    int p = theta.length;
    double nt = 0, nv = 0;
    for (int i = 0; i < p; i++) {
      nt += theta[i] * theta[i];
      nv += v[i] * v[i];
    }
    double eps = 1e-4 * Math.sqrt(nt / nv);
    Tensor vt = ex.vector(v), hv = ex.vector(new double[p]), d3 = ex.vector(new double[p]);
    f.thirdOrder(vt, hv, d3);
    double[] fd = new double[p];
    for (int sign = -1; sign <= 1; sign += 2) {
      double[] th = theta.clone();
      for (int i = 0; i < p; i++) th[i] += sign * eps * v[i];
      f.setParameters(ex.vector(th));
      f.apply(Curvature.HESSIAN, -1, vt, hv);
      for (int i = 0; i < p; i++) fd[i] += sign * hv.get(i) / (2 * eps);
    }
    f.setParameters(ex.vector(theta));
    double num = 0, den = 0;
    for (int i = 0; i < p; i++) {
      num += Math.pow(d3.get(i) - fd[i], 2);
      den += fd[i] * fd[i];
    }
    return Math.sqrt(num / den);
  }
}
