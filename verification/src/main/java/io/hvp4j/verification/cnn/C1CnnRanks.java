package io.hvp4j.verification.cnn;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import io.hvp4j.verification.sbh.DenseCurvature;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * C1 (docs/theory.md): numerical ranks of {@code H}, {@code H_O}, {@code H_F} of bias-free linear and tanh CNNs
 * (1-D and 2-D convolutions, one and two hidden conv layers, a linear head), the setting of Singh, Hofmann and
 * Schölkopf (2023). The paper's theorem statements were not available to this project, so its bounds are not
 * implemented; what is asserted holds for any network: every rank of a linear net is well defined (a gap
 * ≥ 1e4 at numpy's cut), {@code rank H_O ≤ min(p, N·K′)} and {@code rank H ≤ rank H_O + rank H_F}. The closed
 * forms we derived for one hidden conv layer with linear activations (theory.md, C1) are reported beside the
 * measured ranks, not asserted. The matrices and ranks equal an independent PyTorch float64 computation
 * ({@code benchmarks/peers/cnn_rank_peer.py}; {@code CnnRankReferenceTest}).
 */
public final class C1CnnRanks extends AbstractCheck {
  public C1CnnRanks() {
    super("C1", Paper.SHS, CheckKind.HARD,
        "CNN Hessian ranks (linear and tanh, 1-D and 2-D, 1-2 conv layers): well defined and within the bounds");
  }

  /** The nets: quick mode 9, full mode 15 (p up to a few hundred). */
  public static List<CnnSpec> grid(boolean full) {
    List<CnnSpec> g = new ArrayList<>();
    long seed = 251;
    for (Activation a : new Activation[] {Activation.IDENTITY, Activation.TANH}) {
      g.add(CnnSpec.oneD(12, new int[] {3}, 3, a, 3, Loss.MSE, 20, seed++));
      g.add(CnnSpec.oneD(12, new int[] {3, 3}, 3, a, 3, Loss.MSE, 20, seed++));
      g.add(CnnSpec.twoD(6, new int[] {3}, 3, a, 3, Loss.MSE, 20, seed++));
      g.add(CnnSpec.twoD(6, new int[] {3, 3}, 3, a, 3, Loss.MSE, 20, seed++));
    }
    g.add(CnnSpec.oneD(12, new int[] {3}, 3, Activation.IDENTITY, 3, Loss.CE, 20, seed++));
    if (full) {
      g.add(CnnSpec.oneD(16, new int[] {6}, 4, Activation.IDENTITY, 4, Loss.MSE, 10, seed++));
      g.add(CnnSpec.oneD(16, new int[] {5, 5}, 3, Activation.IDENTITY, 4, Loss.MSE, 30, seed++));
      g.add(CnnSpec.twoD(7, new int[] {4}, 3, Activation.IDENTITY, 4, Loss.MSE, 40, seed++));
      g.add(CnnSpec.twoD(7, new int[] {4, 4}, 2, Activation.IDENTITY, 3, Loss.CE, 40, seed++));
      g.add(CnnSpec.twoD(7, new int[] {4, 4}, 2, Activation.TANH, 3, Loss.CE, 40, seed++));
      g.add(CnnSpec.oneD(16, new int[] {5, 5}, 3, Activation.TANH, 4, Loss.MSE, 30, seed++));
    }
    return g;
  }

  /** K′: the number of output directions the loss sees (K − 1 for ce). */
  static int effectiveOutputs(CnnSpec s) {
    return s.loss() == Loss.CE ? s.classes() - 1 : s.classes();
  }

  /**
   * Our closed forms (not the paper's) for one conv layer {@code 1 → m}, linear, no bias: {@code [H_F, H_O]}, or
   * null outside that setting. With k′ the kernel's size (k, or k² in 2-D), d₁ the output positions, r the input
   * rank and s = min(K′, r): {@code rank H_F = 2m·min(k′, s·d₁)} and
   * {@code rank H_O = min(K′·r, K′·min(m·d₁, r) + m·k′ − m·min(m, k′))}.
   */
  static int[] derived(CnnSpec s) {
    if (s.channels().length != 1 || s.act() != Activation.IDENTITY || s.input()[0] != 1) return null;
    int m = s.channels()[0], kk = s.spatial() == 1 ? s.kernel() : s.kernel() * s.kernel();
    int d1 = s.positions(), r = Math.min(s.samples(), s.inputSize()), k = effectiveOutputs(s);
    int sk = Math.min(k, r);
    return new int[] {
      2 * m * Math.min(kk, sk * d1), Math.min(k * r, k * Math.min(m * d1, r) + m * kk - m * Math.min(m, kk))
    };
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) {
    List<CnnSpec> grid = grid(ctx.full());
    out.configuration = grid.size() + " bias-free CNNs, Gaussian data, PyTorch default init: " + grid.get(0)
        + " … (1-D length 12-16 and 2-D 6×6-7×7 inputs, kernels 2-4, 3-6 channels)";
    out.expected = "linear nets: gap ≥ 1e4 at the cut; all: rank H_O ≤ min(p, N·K′), rank H ≤ rank H_O + rank H_F";
    int ok = 0, derivedMatch = 0, derivedTotal = 0, i = 0;
    for (CnnSpec s : grid) {
      ctx.progress().accept(String.format(Locale.ROOT, "C1 %d/%d %s", ++i, grid.size(), s.name()));
      try (CnnCurvature c = new CnnCurvature(s, ctx.threads())) {
        int p = c.parameters();
        DenseCurvature.Rank h = c.rank(Curvature.HESSIAN), ho = c.rank(Curvature.GAUSS_NEWTON),
            hf = c.rank(Curvature.FUNCTIONAL);
        boolean linear = s.act() == Activation.IDENTITY;
        boolean defined = !linear || (h.separated() && ho.separated() && hf.separated());
        boolean bounded = ho.rank() <= Math.min(p, s.samples() * effectiveOutputs(s))
            && h.rank() <= ho.rank() + hf.rank();
        boolean pass = defined && bounded;
        if (pass) ok++;
        String line = String.format(Locale.ROOT, "%s %s p=%d: rank H %s, H_O %s, H_F %s; N·K′=%d", pass ? "ok  " : "FAIL",
            s, p, h, ho, hf, s.samples() * effectiveOutputs(s));
        int[] d = derived(s);
        if (d != null) {
          derivedTotal++;
          boolean same = d[0] == hf.rank() && d[1] == ho.rank();
          if (same) derivedMatch++;
          line += String.format(Locale.ROOT, "; derived closed forms H_F %d, H_O %d (%s)", d[0], d[1],
              same ? "equal" : "differ");
        }
        if (!linear) line += String.format(Locale.ROOT, "; gaps H %.1e, H_O %.1e", h.gap(), ho.gap());
        out.detail("%s", line);
      }
    }
    out.passed = ok == grid.size();
    out.measured = String.format(Locale.ROOT, "%d/%d nets as expected; derived one-layer closed forms equal on %d/%d",
        ok, grid.size(), derivedMatch, derivedTotal);
  }
}
