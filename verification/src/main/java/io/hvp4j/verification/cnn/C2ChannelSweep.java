package io.hvp4j.verification.cnn;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.plot.Chart;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.Paper;
import io.hvp4j.verification.experiments.AbstractCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * C2 (docs/theory.md), soft: Singh, Hofmann and Schölkopf's headline observation that, as the channel count m of
 * the hidden conv layers grows, the parameter count grows quadratically while the Hessian rank grows linearly.
 * Swept on bias-free linear CNNs with two conv layers {@code 1 → m → m} and a linear head; reported: the ranks of
 * H, H_O, H_F and p per m, their first differences, and from which m on the rank's increments stay constant.
 * Plot {@code C2-rank-vs-channels.png}: ranks and p against m.
 */
public final class C2ChannelSweep extends AbstractCheck {
  public C2ChannelSweep() {
    super("C2", Paper.SHS, CheckKind.SOFT,
        "Hessian rank grows linearly in the channel count while p grows quadratically");
  }

  /** One sweep: the nets for m = 1 … {@code maxChannels}. */
  static List<CnnSpec> sweep(int spatial, int maxChannels) {
    List<CnnSpec> g = new ArrayList<>();
    for (int m = 1; m <= maxChannels; m++) {
      int[] ch = {m, m};
      g.add(spatial == 1
          ? CnnSpec.oneD(10, ch, 3, Activation.IDENTITY, 3, Loss.MSE, 20, 271)
          : CnnSpec.twoD(8, ch, 3, Activation.IDENTITY, 3, Loss.MSE, 20, 272));
    }
    return g;
  }

  @Override
  protected void measure(CheckContext ctx, Outcome out) throws Exception {
    List<List<CnnSpec>> sweeps = new ArrayList<>();
    sweeps.add(sweep(1, ctx.full() ? 10 : 6));
    if (ctx.full()) sweeps.add(sweep(2, 6));
    out.configuration = "bias-free linear CNNs 1 → m → m (kernel 3), linear head K = 3, mse, N = 20 Gaussian"
        + " samples: 1-D length 10, m = 1…" + sweeps.get(0).size()
        + (ctx.full() ? "; 2-D 8×8, m = 1…" + sweeps.get(1).size() : "");
    out.expected = "rank increments constant in m (linear) while p's increments grow (quadratic)";
    List<String> summary = new ArrayList<>();
    for (List<CnnSpec> sweep : sweeps) {
      int n = sweep.size();
      int[] m = new int[n], p = new int[n], h = new int[n], ho = new int[n], hf = new int[n];
      for (int i = 0; i < n; i++) {
        CnnSpec s = sweep.get(i);
        ctx.progress().accept("C2 " + s.name());
        try (CnnCurvature c = new CnnCurvature(s, ctx.threads())) {
          m[i] = s.channels()[0];
          p[i] = c.parameters();
          h[i] = c.rank(Curvature.HESSIAN).rank();
          ho[i] = c.rank(Curvature.GAUSS_NEWTON).rank();
          hf[i] = c.rank(Curvature.FUNCTIONAL).rank();
          out.detail("%dd m=%d: p %d, rank H %d, H_O %d, H_F %d%s", s.spatial(), m[i], p[i], h[i], ho[i], hf[i],
              i == 0 ? "" : String.format(Locale.ROOT, "; increments p %+d, rank H %+d", p[i] - p[i - 1],
                  h[i] - h[i - 1]));
        }
      }
      // The smallest m from which rank H's increments are all equal (at least two increments to compare).
      int from = -1;
      for (int i = 1; i + 1 < n && from < 0; i++) {
        boolean constant = true;
        for (int j = i + 1; j < n; j++) constant &= h[j] - h[j - 1] == h[i] - h[i - 1];
        if (constant) from = i - 1;
      }
      int spatial = sweep.get(0).spatial();
      summary.add(from < 0
          ? String.format(Locale.ROOT, "%d-D: rank H increments not constant (%s)", spatial, increments(h))
          : String.format(Locale.ROOT, "%d-D: rank H grows by %d per channel from m = %d (p's increments %s)",
              spatial, h[n - 1] - h[n - 2], m[from], increments(p)));
      Path plot = ctx.plotPath("C2-rank-vs-channels-" + spatial + "d.png");
      if (plot != null) {
        Chart.of("C2: Hessian rank and parameter count against channels (" + spatial + "-D linear CNN)",
                "channels m (both conv layers)", "count")
            .subtitle(out.configuration)
            .add("parameters p", m, p, Chart.Style.LINE_POINTS)
            .add("rank H", m, h, Chart.Style.LINE_POINTS)
            .add("rank H_O", m, ho, Chart.Style.LINE_POINTS)
            .add("rank H_F", m, hf, Chart.Style.LINE_POINTS)
            .save(plot);
        out.plots.add(plot);
      }
    }
    out.measured = String.join("; ", summary);
  }

  private static String increments(int[] a) {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i < a.length; i++) sb.append(i == 1 ? "" : ",").append(a[i] - a[i - 1]);
    return sb.toString();
  }
}
