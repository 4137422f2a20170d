package io.hvp4j.verification.skvb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.PowerIteration;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.experiments.Experiment;
import java.util.Locale;

/**
 * K4 (docs/theory.md §D.4, §C.3): λ_max by power iteration ({@link PowerIteration#lambdaMax}: relative-change tolerance
 * 1e−13, at most 5000 products, gap threshold 1.1) against dense eigenvalues. Where λ_1/λ_2 ≥ 1.1 and |λ_min| <
 * λ_max the value must be within 1e−6 relative and unflagged (a flag is tolerated only where the magnitude gap
 * λ_max/max(λ_2, |λ_min|), which governs power iteration, is itself below 1.1); otherwise the solver must flag.
 * Cases: Hessians of small networks (checked against their dense spectra), the same Hessians shifted by −λ_max
 * (dominant eigenvalue negative), and a dense matrix with λ_1/λ_2 = 1.02.
 */
public final class K4PowerIteration extends AbstractCheck {
  public K4PowerIteration() {
    super("K4", Paper.SKVB, CheckKind.HARD, "power-iteration λ_max equals dense eigvalsh, or is flagged");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    out.configuration =
        SmallNets.CONFIGURATION + " with bias; relu, tanh x mse, ce: H, H − λ_max·I; a dense matrix with gap 1.02";
    out.expected = "relative error ≤ 1e−6 in the good regime, flagged otherwise";
    double worstErr = 0;
    int good = 0, flaggedOk = 0;
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (SmallNets.Net n :
          SmallNets.of(
              ex, new Activation[] {Activation.RELU, Activation.TANH}, new Loss[] {Loss.MSE, Loss.CE}, true)) {
        double[] eig = Experiment.eigenvalues(ex.dense(n.f(), Curvature.HESSIAN, -1));
        SymmetricOperator h = Operators.curvature(n.f(), Curvature.HESSIAN, -1);
        double lmax = eig[eig.length - 1];
        double[] shifted = eig.clone();
        for (int i = 0; i < shifted.length; i++) shifted[i] -= lmax;
        for (int shift = 0; shift < 2; shift++) {
          SymmetricOperator op = shift == 0 ? h : Operators.shift(h, -lmax);
          double[] truth = shift == 0 ? eig : shifted;
          double[] r = judge(op, truth, n.name() + (shift == 0 ? "" : " shifted"), out);
          worstErr = Math.max(worstErr, r[0]);
          good += (int) r[1];
          flaggedOk += (int) r[2];
        }
      }
      int dim = 40;
      double[][] m = new double[dim][dim];
      double[] truth = new double[dim];
      for (int i = 0; i < dim; i++) truth[i] = i == dim - 1 ? 1.02 : (i == dim - 2 ? 1.0 : 0.5 * i / dim);
      // A rotated diagonal matrix (Householder reflection) so that the iteration sees no coordinate structure.
      double[] u = new double[dim];
      for (int i = 0; i < dim; i++) u[i] = Math.sin(1.7 * i + 0.3);
      double uu = 0;
      for (double x : u) uu += x * x;
      for (int i = 0; i < dim; i++) {
        for (int j = 0; j < dim; j++) {
          double s = 0;
          for (int k = 0; k < dim; k++) {
            double qik = (i == k ? 1 : 0) - 2 * u[i] * u[k] / uu;
            double qjk = (j == k ? 1 : 0) - 2 * u[j] * u[k] / uu;
            s += qik * truth[k] * qjk;
          }
          m[i][j] = s;
        }
      }
      double[] r = judge(Operators.dense(m), truth, "dense gap 1.02", out);
      good += (int) r[1];
      flaggedOk += (int) r[2];
    }
    out.measured =
        String.format(
            Locale.ROOT,
            "%d accurate (max relative error %.2g), %d correctly flagged",
            good,
            worstErr,
            flaggedOk);
  }

  /** Returns {error in the good regime (0 otherwise), 1 if good and accurate, 1 if flagged as required}. */
  private static double[] judge(SymmetricOperator op, double[] ascending, String name, Outcome out) {
    int n = ascending.length;
    double l1 = ascending[n - 1], l2 = ascending[n - 2], lmin = ascending[0];
    boolean regime = l1 > 0 && l1 / l2 >= 1.1 && Math.abs(lmin) < l1;
    double magnitudeGap = l1 / Math.max(l2, Math.abs(lmin));
    PowerIteration.LambdaMax pi = PowerIteration.lambdaMax(op, 5000, 1e-13, 1.1, 17);
    double err = Math.abs(pi.value() - l1) / Math.abs(l1);
    boolean ok;
    if (regime) {
      ok = (!pi.flagged() && err <= 1e-6) || (pi.flagged() && magnitudeGap < 1.1);
    } else {
      ok = pi.flagged();
    }
    out.passed &= ok;
    out.detail(
        "%s: λ_max %.10g, λ_2 %.6g, λ_min %.6g; power iteration %.10g (rel. error %.1e, %d products)%s %s",
        name, l1, l2, lmin, pi.value(), err, pi.products(),
        pi.flagged() ? ", flagged: " + pi.reason() : "", ok ? "" : "FAIL");
    return new double[] {regime && !pi.flagged() ? err : 0, regime && ok && !pi.flagged() ? 1 : 0,
      !regime && ok ? 1 : 0};
  }
}
