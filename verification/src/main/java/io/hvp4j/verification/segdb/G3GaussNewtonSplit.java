package io.hvp4j.verification.segdb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.ForwardOverReverse;
import io.hvp4j.model.Mlp;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * G3 (docs/theory.md §D.3): {@code H·v = G·v + R·v} with the two parts computed on independent paths.
 *
 * <ul>
 *   <li>{@code H·v}: the forward-over-reverse HVP ({@link Curvature#HESSIAN}).
 *   <li>{@code G·v}: a JVP (forward tangents only, {@link ForwardOverReverse#jvp}), then the loss Hessian
 *       {@code A_i} applied by a separate instance of the loss rules, then a VJP (the plain first-order backward
 *       pass, {@link ForwardOverReverse#vjp}). No second-order rule is involved.
 *   <li>{@code R·v}: the HVP of {@code Φ(θ) = Σ_i ḡ_iᵀ F_θ(x_i)} with the loss gradients ḡ frozen
 *       ({@link Curvature#FUNCTIONAL}: the output adjoint is ḡ and its tangent is zero).
 * </ul>
 *
 * Every activation × loss, with biases, at a point with non-zero residuals; relative error ≤ 1e−12.
 */
public final class G3GaussNewtonSplit extends AbstractCheck {
  public G3GaussNewtonSplit() {
    super(
        "G3",
        Paper.SEGDB,
        CheckKind.HARD,
        "H·v = G·v + R·v (G·v by JVP → loss Hessian → VJP, R·v as the HVP of Σ ḡᵀF with ḡ frozen)");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    int vectors = ctx.full() ? 5 : 2;
    out.configuration =
        "clusters k=3, d=6, N=24; 6-7-5-3 MLP with bias; every activation x {mse, ce, cosh}; "
            + vectors
            + " random v each; f64";
    double worst = 0, worstGgn = 0;
    try (Experiment ex = new Experiment(ctx.threads());
        Arena arena = Arena.ofShared()) {
      Dataset data = ex.clusters(3, 6, 2, 8, 3);
      int n = data.size(), k = 3;
      for (Activation act : Activation.values()) {
        for (Loss loss : Loss.values()) {
          Mlp mlp = new Mlp(new int[] {6, 7, 5, k}, act, true);
          int p = mlp.parameterCount();
          double[] theta = Experiment.init(mlp, 17);
          try (ForwardOverReverse e =
              new ForwardOverReverse(mlp, loss, ex.backend(), DType.F64, n, 1)) {
            e.setParameters(ex.vector(theta));
            e.forwardBackward(data.inputs(), data.targets(), 1.0 / n, null);
            Loss.Rules rules = loss.rules(ex.backend(), arena, DType.F64, n, k);
            rules.forward(e.outputs(), data.targets(), 1.0 / n);
            SplittableRandom rng = new SplittableRandom(act.ordinal() * 31L + loss.ordinal());
            Tensor v = Tensor.allocate(arena, DType.F64, p, 1);
            Tensor hv = Tensor.allocate(arena, DType.F64, p, 1);
            Tensor gv = Tensor.allocate(arena, DType.F64, p, 1);
            Tensor rv = Tensor.allocate(arena, DType.F64, p, 1);
            Tensor ggn = Tensor.allocate(arena, DType.F64, p, 1);
            Tensor fDot = Tensor.allocate(arena, DType.F64, n, k);
            Tensor aFDot = Tensor.allocate(arena, DType.F64, n, k);
            for (int j = 0; j < vectors; j++) {
              for (int i = 0; i < p; i++) v.set(i, rng.nextDouble(-1, 1));
              e.product(Curvature.HESSIAN, -1, v, hv);
              e.jvp(v, fDot);
              rules.tangentOfBackward(fDot, aFDot);
              e.vjp(aFDot, gv);
              e.product(Curvature.FUNCTIONAL, -1, v, rv);
              e.product(Curvature.GAUSS_NEWTON, -1, v, ggn);
              double num = 0, den = 0, numG = 0, denG = 0;
              for (int i = 0; i < p; i++) {
                double d = hv.get(i) - gv.get(i) - rv.get(i);
                num += d * d;
                den += hv.get(i) * hv.get(i);
                numG += Math.pow(gv.get(i) - ggn.get(i), 2);
                denG += gv.get(i) * gv.get(i);
              }
              double rel = Math.sqrt(num / den), relG = Math.sqrt(numG / denG);
              worst = Math.max(worst, rel);
              worstGgn = Math.max(worstGgn, relG);
              boolean ok = rel <= 1e-12;
              out.passed &= ok;
              if (j == 0 || !ok) {
                out.detail(
                    "%s/%s: ‖Hv − (Gv + Rv)‖/‖Hv‖ = %.2e; composed Gv vs GGN product: %.2e %s",
                    act.id(), loss.id(), rel, relG, ok ? "" : "FAIL");
              }
            }
          }
        }
      }
    }
    out.measured = "max relative error " + g(worst) + " (Gv composed vs GGN product: " + g(worstGgn) + ")";
    out.expected = "≤ 1e−12";
  }
}
