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
 * K3 (docs/theory.md §D.4, §C.1, §A.3): in linear and bias-free ReLU networks F is affine in each single layer, so the
 * residual part of every diagonal layer block vanishes: tr(H_l) = tr(G_l) ≥ 0. Exact traces of the layer blocks
 * of H and of G.
 */
public final class K3LayerTraceIsGaussNewton extends AbstractCheck {
  public K3LayerTraceIsGaussNewton() {
    super("K3", Paper.SKVB, CheckKind.HARD, "linear/ReLU nets: tr(H_l) = tr(G_l) ≥ 0 for every layer");
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    out.configuration = SmallNets.CONFIGURATION + " without bias; identity, relu x mse, ce, cosh; exact traces";
    out.expected = "|tr(H_l) − tr(G_l)| ≤ 1e−10·|tr(G_l)|, tr(H_l) ≥ 0";
    double worst = 0;
    try (Experiment ex = new Experiment(ctx.threads())) {
      for (SmallNets.Net n :
          SmallNets.of(ex, new Activation[] {Activation.IDENTITY, Activation.RELU}, Loss.values(), false)) {
        for (int l = 0; l < n.f().mlp().layers(); l++) {
          double h = TraceEstimators.exact(Operators.curvature(n.f(), Curvature.HESSIAN, l), 32).value();
          double gn =
              TraceEstimators.exact(Operators.curvature(n.f(), Curvature.GAUSS_NEWTON, l), 32).value();
          double rel = Math.abs(h - gn) / Math.abs(gn);
          worst = Math.max(worst, rel);
          boolean ok = rel <= 1e-10 && h >= 0;
          out.passed &= ok;
          out.detail("%s layer %d: tr(H_l) = %.12g, tr(G_l) = %.12g, relative %.1e %s", n.name(), l, h, gn, rel,
              ok ? "" : "FAIL");
        }
      }
    }
    out.measured = "max relative difference " + g(worst);
  }
}
