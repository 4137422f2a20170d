package io.hvp4j.random;

import java.util.SplittableRandom;

/**
 * The project's one source of random numbers: streams are {@link SplittableRandom}s made from a seed (and split for
 * independent sub-streams), and every normal deviate comes from {@link #gaussian} (Marsaglia's polar method), so
 * that the initializers, generated data, probe vectors and random sketches share one definition. Deterministic for a
 * seed; a stream is not thread-safe (split one per thread).
 */
public final class Rng {
    private Rng() {
    }

    /**
     * A random stream.
     *
     * @param seed the seed
     * @return the stream of {@code seed} (the same numbers for the same seed)
     */
    public static SplittableRandom stream(long seed) {
        return new SplittableRandom(seed);
    }

    /**
     * A standard normal deviate (Marsaglia's polar method; no hidden state beyond {@code rng}).
     *
     * @param rng the stream
     * @return one deviate
     */
    public static double gaussian(SplittableRandom rng) {
        while (true) {
            double u = 2 * rng.nextDouble() - 1, v = 2 * rng.nextDouble() - 1;
            double s = u * u + v * v;
            if (s > 0 && s < 1) {
                return u * Math.sqrt(-2 * Math.log(s) / s);
            }
        }
    }

    /**
     * Standard normal deviates.
     *
     * @param rng the stream
     * @param n   how many
     * @return {@code n} deviates
     */
    public static double[] gaussians(SplittableRandom rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = gaussian(rng);
        }
        return v;
    }

    /**
     * Rademacher entries.
     *
     * @param rng the stream
     * @param n   how many
     * @return {@code n} entries ±1 with equal probability
     */
    public static double[] rademacher(SplittableRandom rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextBoolean() ? 1.0 : -1.0;
        }
        return v;
    }
}
