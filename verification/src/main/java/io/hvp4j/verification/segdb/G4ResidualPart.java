package io.hvp4j.verification.segdb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;

/**
 * G4 (docs/theory.md §D.3, §B.1): with MSE and targets the network can interpolate, the residual part R shrinks with
 * the residual, {@code ‖R‖₂ ≤ C·max_i‖f_i − y_i‖}. An over-parametrized tanh network (p ≫ N·k) is trained by GD
 * towards interpolation; at checkpoints ‖R‖₂ (dense, exact) and the largest residual are measured. Soft: the ratio
 * C_t = ‖R‖₂/max residual is reported along the run.
 */
public final class G4ResidualPart extends AbstractCheck {
  public G4ResidualPart() {
    super("G4", Paper.SEGDB, CheckKind.SOFT, "‖R‖₂ shrinks with the residual at an interpolating MSE solution");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    int[] checkpoints = ctx.full() ? new int[] {0, 100, 400, 1600, 6400} : new int[] {0, 100, 400, 1600};
    out.configuration =
        "clusters k=3, d=20, sep=3, N=12, one-hot targets; 20-16-3 tanh with bias (p=387); MSE; GD lr 0.2; "
            + "checkpoints at steps "
            + java.util.Arrays.toString(checkpoints);
    out.expected = "‖R‖₂ → 0 with max residual, ratio C bounded";
    try (Experiment ex = new Experiment(ctx.threads())) {
      Dataset data = ex.clusters(3, 20, 3, 4, 21);
      Mlp mlp = new Mlp(new int[] {20, 16, 3}, Activation.TANH, true);
      double[] theta = Experiment.init(mlp, 22);
      int done = 0;
      double cMin = Double.POSITIVE_INFINITY, cMax = 0, rFirst = 0, rLast = 0, resFirst = 0, resLast = 0;
      for (int step : checkpoints) {
        theta = ex.gradientDescent(mlp, Loss.MSE, data, theta, 0.2, step - done);
        done = step;
        MlpObjective f = ex.objective(mlp, Loss.MSE, data, theta);
        double[] eig = ex.eigenvalues(f, Curvature.FUNCTIONAL, -1);
        double r = Math.max(Math.abs(eig[0]), Math.abs(eig[eig.length - 1]));
        double res = maxResidual(ex, mlp, data, theta);
        double c = r / res;
        cMin = Math.min(cMin, c);
        cMax = Math.max(cMax, c);
        if (step == checkpoints[0]) {
          rFirst = r;
          resFirst = res;
        }
        rLast = r;
        resLast = res;
        out.detail("step %d: loss %.3e, max residual %.3e, ‖R‖₂ %.3e, C = %.3f", step, f.loss(), res, r, c);
      }
      out.measured =
          String.format(
              java.util.Locale.ROOT,
              "max residual %.2e → %.2e, ‖R‖₂ %.2e → %.2e, C in [%.3g, %.3g]",
              resFirst, resLast, rFirst, rLast, cMin, cMax);
    }
  }

  /** max_i ‖f_i − y_i‖ (Euclidean over outputs): from the per-sample MSE losses ½‖f_i − y_i‖². */
  static double maxResidual(Experiment ex, Mlp mlp, Dataset data, double[] theta) {
    double max = 0;
    for (int i = 0; i < data.size(); i++) {
      Dataset one = new Dataset(data.inputs().rowSlice(i, 1), data.targets().rowSlice(i, 1), "sample");
      double l = ex.objective(mlp, Loss.MSE, one, theta).loss();
      max = Math.max(max, Math.sqrt(2 * l));
    }
    return max;
  }
}
