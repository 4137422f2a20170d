package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;
import io.hvp4j.verification.CheckContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * [SBH] S6 (docs/theory.md §A.3 "more exact structure", §D.1): for linear and bias-free ReLU networks every function
 * is affine in each single layer, so every diagonal layer block of {@code H_F} is zero, {@code tr(H_F) = 0},
 * {@code tr(H) = tr(H_O) ≥ 0} and, per layer, {@code tr(H_ll) = tr((H_O)_ll) ≥ 0}.
 *
 * <p>Each block is measured twice: sliced from the dense {@code H_F} and assembled from the engine's own
 * layer-block product (a separate code path). Tolerance {@value SbhCheck#RELATIVE}·‖H‖_F (measured values are about
 * 1e-16). A tanh network is the control: its hidden-layer blocks of {@code H_F} must come out clearly non-zero
 * (above 1e-6·‖H‖_F) while its output-layer block is zero, so the check can tell a zero block from a broken
 * measurement.
 */
public final class S6TraceIdentities extends SbhCheck {

  public S6TraceIdentities() {
    super("S6",
        "linear and bias-free ReLU nets: diagonal layer blocks of H_F = 0, tr(H_F) = 0, tr(H_ll) = tr(H_O,ll) >= 0");
  }

  static List<NetSpec> grid(boolean full) {
    List<NetSpec> g = new ArrayList<>(List.of(
        NetSpec.linear(Loss.MSE, 40, 10, 61, 10, 8, 3),
        NetSpec.linear(Loss.CE, 30, 5, 62, 12, 6, 6, 6, 4),
        NetSpec.linear(Loss.COSH, 20, 7, 63, 7, 5, 4, 3),
        NetSpec.linear(Loss.MSE, 30, 8, 64, 8, 6, 5, 4).withActivation(Activation.RELU),
        NetSpec.linear(Loss.CE, 30, 8, 65, 8, 6, 5, 4).withActivation(Activation.RELU),
        NetSpec.linear(Loss.MSE, 12, 6, 66, 6, 5, 4, 4, 2).withActivation(Activation.RELU)));
    if (full) {
      g.add(NetSpec.linear(Loss.MSE, 50, 25, 67, 25, 5, 10, 10));
      g.add(NetSpec.linear(Loss.CE, 50, 25, 68, 25, 5, 10, 10).withActivation(Activation.RELU));
    }
    return g;
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    List<NetSpec> grid = grid(context.full());
    double worst = 0;
    int i = 0;
    for (NetSpec spec : grid) {
      context.progress().accept(String.format(Locale.ROOT, "S6 %d/%d %s", ++i, grid.size(), spec.describe()));
      try (DenseCurvature dc = DenseCurvature.of(spec, context.threads()); Arena tmp = Arena.ofConfined()) {
        Mlp mlp = dc.mlp();
        Tensor h = dc.matrix(Curvature.HESSIAN), ho = dc.matrix(Curvature.GAUSS_NEWTON);
        Tensor hf = dc.matrix(Curvature.FUNCTIONAL);
        double norm = frobenius(h, 0, h.rows());
        double tol = RELATIVE * norm;
        double trF = trace(hf, 0, hf.rows());
        double maxDev = Math.abs(trF);
        boolean ok = Math.abs(trF) <= tol && Math.abs(trace(h, 0, h.rows()) - trace(ho, 0, ho.rows())) <= tol;
        maxDev = Math.max(maxDev, Math.abs(trace(h, 0, h.rows()) - trace(ho, 0, ho.rows())));
        StringBuilder blocks = new StringBuilder();
        for (int l = 0; l < mlp.layers(); l++) {
          int from = mlp.layerOffset(l), to = from + mlp.layerParameterCount(l);
          double sliced = frobenius(hf, from, to);
          double engine = frobenius(dc.layerBlock(Curvature.FUNCTIONAL, l, tmp), 0, to - from);
          double trH = trace(h, from, to), trO = trace(ho, from, to);
          ok &= sliced <= tol && engine <= tol && Math.abs(trH - trO) <= tol && trO >= -tol;
          maxDev = Math.max(maxDev, Math.max(Math.max(sliced, engine), Math.abs(trH - trO)));
          blocks.append(String.format(Locale.ROOT, " [l%d |H_F,ll| %.1e/%.1e tr H_ll %.4g = tr H_O,ll %.4g]", l,
              sliced / norm, engine / norm, trH, trO));
        }
        worst = Math.max(worst, maxDev / norm);
        tally.record(ok, String.format(Locale.ROOT, "%s: |tr H_F|/|H|_F = %.1e, tr H = %.6g, tr H_O = %.6g%s",
            spec.describe(), Math.abs(trF) / norm, trace(h, 0, h.rows()), trace(ho, 0, ho.rows()), blocks));
      }
    }
    // Control: tanh has non-zero hidden-layer blocks of H_F; only the output-layer block vanishes.
    NetSpec tanh = NetSpec.linear(Loss.MSE, 30, 8, 69, 8, 6, 5, 4).withActivation(Activation.TANH);
    try (DenseCurvature dc = DenseCurvature.of(tanh, context.threads())) {
      Mlp mlp = dc.mlp();
      Tensor h = dc.matrix(Curvature.HESSIAN), hf = dc.matrix(Curvature.FUNCTIONAL);
      double norm = frobenius(h, 0, h.rows());
      StringBuilder line = new StringBuilder("control " + tanh.describe() + ": |H_F,ll|/|H|_F =");
      boolean ok = true;
      for (int l = 0; l < mlp.layers(); l++) {
        int from = mlp.layerOffset(l), to = from + mlp.layerParameterCount(l);
        double rel = frobenius(hf, from, to) / norm;
        boolean output = l == mlp.layers() - 1;
        ok &= output ? rel <= RELATIVE : rel > 1e-6;
        line.append(String.format(Locale.ROOT, " l%d %.1e", l, rel));
      }
      tally.record(ok, line + " (hidden blocks non-zero, output block zero)");
    }
    tally.measured = String.format(Locale.ROOT, "max deviation %.1e·|H|_F over %d nets; tanh control as expected: %s",
        worst, grid.size(), tally.details.getLast().startsWith("ok") ? "yes" : "NO");
    tally.expected = "0 within 1e-10·|H|_F";
    return "linear (mse, ce, cosh) and bias-free ReLU (mse, ce) nets, L=2..4, dense f64 and engine layer blocks; "
        + "tanh control";
  }

  /** Frobenius norm of the principal block {@code [from, to)²} of a square matrix. */
  static double frobenius(Tensor m, int from, int to) {
    double s = 0;
    for (int i = from; i < to; i++) {
      for (int j = from; j < to; j++) {
        double x = m.get(i, j);
        s += x * x;
      }
    }
    return Math.sqrt(s);
  }

  static double trace(Tensor m, int from, int to) {
    double s = 0;
    for (int i = from; i < to; i++) s += m.get(i, i);
    return s;
  }
}
