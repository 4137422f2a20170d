package io.hvp4j.perf;

import java.util.Arrays;

/** Wall-clock medians for the quick (non-JMH) benchmarks. */
public final class Timing {
    private Timing() {
    }

    /**
     * Median milliseconds per call of {@code op} over {@code reps} timed calls, after warm-up: at least
     * {@code minWarmupCalls} calls and {@code warmupMillis} ms (at most 1000 calls), so that the JIT has compiled
     * the Vector API kernels before the first timed call.
     */
    public static double medianMillis(Runnable op, int reps, int minWarmupCalls, long warmupMillis) {
        if (reps < 1) {
            throw new IllegalArgumentException("reps must be positive");
        }
        long start = System.nanoTime();
        for (int i = 0; i < 1000 && (i < minWarmupCalls || System.nanoTime() - start < warmupMillis * 1_000_000L); i++) {
            op.run();
        }
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            op.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        return median(t);
    }

    /** The median (mean of the middle two for an even count); sorts a copy. */
    public static double median(double[] values) {
        double[] t = values.clone();
        Arrays.sort(t);
        int n = t.length;
        return n % 2 == 1 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    }
}
