package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.spectral.RankPredictions;
import io.hvp4j.verification.CheckContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * [SBH] S8 (docs/theory.md §A.10, §A.11, §D.1): the nine worked examples of §A.11 and the 27 stored entries of the
 * authors' MNIST cross-entropy width sweep (§A.10: d = 64, N = 100, K = 10, widths (w, w), w = 4…36, rank H_O,
 * H_F, H), reproduced exactly with synthetic inputs of rank 41 in d = 64 (the rank the stored predictions imply).
 * Each listed number must equal both the measured numerical rank and the closed form. The worked examples
 * (p ≤ 380) must be robust (same count for every relative threshold in [1e-12, 1e-7]); the §A.10 networks (p in
 * the hundreds to thousands, inputs with σ_max/σ_41 ≈ 13) have their smallest non-zero eigenvalues near
 * 5e-9·σ_max while the zero ones stay near 1e-16·σ_max, so for them the rank must be
 * {@linkplain DenseCurvature.Rank#separated separated} (gap ≥ 1e4 at the default cut).
 *
 * <p>Quick mode runs all nine worked examples and the first {@value #QUICK_WIDTHS} widths of §A.10 (w = 4…20:
 * 15 of the 27 entries, p ≤ 1880); full mode all nine widths (p up to 3960).
 */
public final class S8WorkedExamples extends SbhCheck {

  static final int QUICK_WIDTHS = 5;

  public S8WorkedExamples() {
    super("S8",
        "the 9 worked examples of §A.11 and the 27 stored MNIST-CE entries of §A.10 (inputs of rank 41 in d = 64)");
  }

  /** One listed example: its network and data, and the listed (H_O, H_F, H). */
  record Example(String name, NetSpec spec, int[] listed) {}

  /** §A.11 #1–#9 (N of #8 is not listed; any N ≥ d gives the same ranks). */
  static List<Example> worked() {
    return List.of(
        new Example("A.11 #1", NetSpec.linear(Loss.MSE, 50, 25, 81, 25, 5, 10, 10), new int[] {150, 175, 250}),
        new Example("A.11 #2", NetSpec.linear(Loss.CE, 50, 25, 82, 25, 5, 10, 10), new int[] {145, 165, 245}),
        new Example("A.11 #3", NetSpec.linear(Loss.MSE, 40, 10, 83, 10, 8, 3), new int[] {30, 48, 69}),
        new Example("A.11 #4", NetSpec.linear(Loss.CE, 40, 10, 84, 10, 8, 3), new int[] {20, 32, 48}),
        new Example("A.11 #5", NetSpec.linear(Loss.MSE, 30, 5, 85, 12, 6, 6, 6, 4), new int[] {20, 112, 116}),
        new Example("A.11 #6", NetSpec.linear(Loss.MSE, 15, 20, 86, 20, 4, 30, 6), new int[] {68, 272, 308}),
        new Example("A.11 #7", NetSpec.linear(Loss.MSE, 50, 8, 87, 8, 3, 6), new int[] {33, 36, 42}),
        new Example("A.11 #8", NetSpec.linear(Loss.MSE, 20, 10, 88, 10, 6, 5, 1), new int[] {10, 21, 30}),
        new Example("A.11 #9", NetSpec.linear(Loss.MSE, 40, 10, 89, 10, 8, 8, 3).withBias(true),
            new int[] {33, 90, 117}));
  }

  /** §A.10: widths w = 4, 8, …, 36 and the stored (H_O, H_F, H). */
  static final int[][] STORED = {
    {4, 184, 88, 216}, {8, 336, 208, 464}, {12, 369, 351, 639}, {16, 369, 495, 783}, {20, 369, 639, 927},
    {24, 369, 783, 1071}, {28, 369, 927, 1215}, {32, 369, 1071, 1359}, {36, 369, 1215, 1503}};

  static List<Example> stored(int widths) {
    List<Example> out = new ArrayList<>();
    for (int i = 0; i < widths; i++) {
      int w = STORED[i][0];
      out.add(new Example("A.10 w=" + w, NetSpec.linear(Loss.CE, 100, 41, 1000 + w, 64, w, w, 10),
          Arrays.copyOfRange(STORED[i], 1, 4)));
    }
    return out;
  }

  @Override
  String measure(CheckContext context, Tally tally) {
    int widths = context.full() ? STORED.length : QUICK_WIDTHS;
    List<Example> all = new ArrayList<>(worked());
    all.addAll(stored(widths));
    Curvature[] ops = {Curvature.GAUSS_NEWTON, Curvature.FUNCTIONAL, Curvature.HESSIAN};
    int entries = 0, equal = 0;
    int i = 0;
    for (Example ex : all) {
      context.progress().accept(String.format(Locale.ROOT, "S8 %d/%d %s", ++i, all.size(), ex.name()));
      try (DenseCurvature dc = DenseCurvature.of(ex.spec(), context.threads())) {
        int r = dc.inputRank();
        int rt = ex.spec().bias() ? dc.augmentedInputRank() : -1;
        RankPredictions.Prediction p = RankPredictions.predict(dc.mlp(), ex.spec().loss(), r, rt).orElse(null);
        boolean ok = p != null;
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s %s p=%d r=%d:", ex.name(),
            ex.spec().describe(), dc.parameters(), r));
        for (int k = 0; k < 3; k++) {
          DenseCurvature.Rank m = dc.rank(ops[k]);
          int formula = p == null ? -1 : RankGrid.predicted(p, ops[k]);
          boolean stored = ex.name().startsWith("A.10");
          boolean good = (stored ? m.separated() : m.robust()) && m.rank() == ex.listed()[k]
              && formula == ex.listed()[k];
          entries++;
          if (good) equal++;
          ok &= good;
          line.append(String.format(Locale.ROOT, " %s %s (listed %d, formula %d)", RankGrid.label(ops[k]), m,
              ex.listed()[k], formula));
        }
        tally.record(ok, line.toString());
      }
    }
    tally.measured = String.format(Locale.ROOT,
        "%d/%d listed ranks reproduced (27 of the 9 worked examples + %d of the 27 stored)",
        equal, entries, 3 * widths);
    tally.expected = "every listed number, measured and by formula";
    return "§A.11 #1-#9; §A.10 ce, d=64, r=41, N=100, K=10, widths (w,w) w=4.." + STORED[widths - 1][0]
        + (context.full() ? "" : " (quick; --full runs w=4..36)");
  }
}
