package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Loss;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The grids of bias-free deep linear networks the rank checks run on: hand-picked points covering every regime of
 * §A.3 (single layer, depth up to 5, K = 1, bottlenecks below K′ and below r, low-rank inputs r < d, fewer samples
 * than inputs N < d, r < K′, all three initializations of the authors' code), plus seeded random points. Quick mode
 * keeps every network at a few hundred parameters.
 *
 * <p>The all-positive "uniform" initialization is used only up to L = 3: products of several all-positive
 * matrices approach rank one (Perron), so at depth 5 the smallest non-zero eigenvalues of H fall below
 * 1e-7·σ_max. The rank at the default tolerance is still the predicted one, but it is no longer robust in the
 * sense of §D, which the checks require.
 */
final class Grids {
  private Grids() {}

  /** Largest parameter count of a random point: quick / full. */
  static final int QUICK_MAX_PARAMETERS = 220;
  static final int FULL_MAX_PARAMETERS = 900;

  /** mse (K′ = K): the grid of S1–S3. */
  static List<NetSpec> mse(boolean full) {
    List<NetSpec> g = new ArrayList<>(List.of(
        NetSpec.linear(Loss.MSE, 10, 6, 11, 6, 3),                     // L = 1: H = H_O = rK, H_F = 0
        NetSpec.linear(Loss.MSE, 40, 10, 12, 10, 8, 3),                // §A.11 #3
        NetSpec.linear(Loss.MSE, 50, 8, 13, 8, 3, 6),                  // bottleneck M_1 < K (§A.11 #7): full rank
        NetSpec.linear(Loss.MSE, 30, 5, 14, 12, 6, 6, 6, 4),           // r = 5 < d = 12, L = 4 (§A.11 #5)
        NetSpec.linear(Loss.MSE, 15, 20, 15, 20, 4, 30, 6),            // N < d (§A.11 #6)
        NetSpec.linear(Loss.MSE, 20, 10, 16, 10, 6, 5, 1),             // K = 1 (§A.11 #8)
        NetSpec.linear(Loss.MSE, 25, 9, 17, 9, 2, 7, 4).withInit(Initializer.ORTHOGONAL),  // bottleneck first
        NetSpec.linear(Loss.MSE, 4, 7, 18, 7, 5, 3, 6, 5),             // N = 4 < K, q = 3 from a middle width
        NetSpec.linear(Loss.MSE, 12, 5, 19, 5, 4, 4, 4, 4, 2),          // L = 5
        NetSpec.linear(Loss.MSE, 6, 3, 20, 6, 9, 4).withInit(Initializer.UNIFORM_POSITIVE), // r = 3 < d, wide
        NetSpec.linear(Loss.MSE, 30, 4, 21, 4, 3, 8, 7)));             // r = 4 < K = 7, s = r
    g.addAll(random(Loss.MSE, full ? 14 : 7, 101, full));
    return g;
  }

  /** ce (K′ = K − 1) and cosh (K′ = K): the grid of S4. */
  static List<NetSpec> ceAndCosh(boolean full) {
    List<NetSpec> g = new ArrayList<>(List.of(
        NetSpec.linear(Loss.CE, 40, 10, 31, 10, 8, 3),                 // §A.11 #4
        NetSpec.linear(Loss.CE, 20, 6, 32, 6, 4, 4, 2),                // K = 2: K′ = 1
        NetSpec.linear(Loss.CE, 30, 5, 33, 12, 6, 6, 6, 4),            // r < d
        NetSpec.linear(Loss.CE, 20, 8, 34, 8, 2, 5),                   // bottleneck below K′
        NetSpec.linear(Loss.CE, 5, 9, 35, 9, 6, 4, 7).withInit(Initializer.ORTHOGONAL), // N < d, r < K′
        NetSpec.linear(Loss.COSH, 40, 10, 36, 10, 8, 3),
        NetSpec.linear(Loss.COSH, 30, 5, 37, 12, 6, 6, 6, 4),
        NetSpec.linear(Loss.COSH, 50, 8, 38, 8, 3, 6),
        NetSpec.linear(Loss.COSH, 5, 7, 39, 7, 5, 4, 2).withInit(Initializer.UNIFORM_POSITIVE)));
    if (full) {
      g.add(NetSpec.linear(Loss.CE, 50, 25, 40, 25, 5, 10, 10));        // §A.11 #2, p = 275
      g.addAll(random(Loss.CE, 8, 202, true));
      g.addAll(random(Loss.COSH, 6, 303, true));
    } else {
      g.addAll(random(Loss.CE, 4, 202, false));
      g.addAll(random(Loss.COSH, 2, 303, false));
    }
    return g;
  }

  /** mse and ce mixed, for the deficiency closed form (S5). */
  static List<NetSpec> deficiency(boolean full) {
    List<NetSpec> g = new ArrayList<>(List.of(
        NetSpec.linear(Loss.MSE, 30, 5, 51, 12, 6, 6, 6, 4),           // §A.11 #5: 52 by hand
        NetSpec.linear(Loss.MSE, 8, 8, 52, 8, 5, 7, 3),
        NetSpec.linear(Loss.MSE, 40, 3, 53, 9, 2, 6, 5),
        NetSpec.linear(Loss.CE, 40, 10, 54, 10, 8, 3),
        NetSpec.linear(Loss.CE, 12, 4, 55, 7, 6, 3, 5),
        NetSpec.linear(Loss.CE, 6, 10, 56, 10, 3, 4)));
    if (full) g.add(NetSpec.linear(Loss.MSE, 50, 25, 57, 25, 5, 10, 10)); // §A.11 #1: 25 by hand
    g.addAll(random(Loss.MSE, full ? 8 : 4, 404, full));
    g.addAll(random(Loss.CE, full ? 8 : 4, 505, full));
    return g;
  }

  /**
   * {@code count} seeded random bias-free linear nets: L = 1…5, d = 2…12, hidden widths 1…9, K = 1…7 (ce: 2…7),
   * N = 2…44, r < d in a third of them; at most {@link #QUICK_MAX_PARAMETERS} (quick) or
   * {@link #FULL_MAX_PARAMETERS} parameters.
   */
  static List<NetSpec> random(Loss loss, int count, long seed, boolean full) {
    SplittableRandom rng = new SplittableRandom(seed);
    int maxP = full ? FULL_MAX_PARAMETERS : QUICK_MAX_PARAMETERS;
    int scale = full ? 2 : 1;
    Initializer[] inits = {Initializer.GLOROT_NORMAL, Initializer.ORTHOGONAL, Initializer.UNIFORM_POSITIVE};
    List<NetSpec> out = new ArrayList<>();
    while (out.size() < count) {
      int layers = 1 + rng.nextInt(5);
      int[] w = new int[layers + 1];
      w[0] = 2 + rng.nextInt(11 * scale);
      for (int l = 1; l < layers; l++) w[l] = 1 + rng.nextInt(9 * scale);
      w[layers] = (loss == Loss.CE ? 2 : 1) + rng.nextInt(loss == Loss.CE ? 6 : 7);
      int n = 2 + rng.nextInt(43 * scale);
      int r = rng.nextInt(3) == 0 ? 1 + rng.nextInt(w[0]) : w[0];
      long s = rng.nextLong();
      if (new Mlp(w, io.hvp4j.autodiff.Activation.IDENTITY, false).parameterCount() > maxP) continue;
      Initializer init = inits[out.size() % inits.length];
      if (init == Initializer.UNIFORM_POSITIVE && layers > 3) init = Initializer.GLOROT_NORMAL;
      out.add(NetSpec.linear(loss, n, r, s, w).withInit(init));
    }
    return out;
  }
}
