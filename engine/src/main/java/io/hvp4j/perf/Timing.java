package io.hvp4j.perf;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.function.LongSupplier;

/** Wall-clock medians for the quick (non-JMH) benchmarks. */
public final class Timing {
    private Timing() {
    }

    /**
     * Median milliseconds per call of {@code op} over {@code reps} timed calls, after warm-up: at least
     * {@code minWarmupCalls} calls and {@code warmupMillis} ms (at most 1000 calls), so that the JIT has compiled
     * the Vector API kernels before the first timed call.
     *
     * @param op             the call
     * @param reps           timed calls
     * @param minWarmupCalls warm-up calls at least
     * @param warmupMillis   warm-up time at least
     * @return the median milliseconds per call
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

    /**
     * Pause before each timed batch when two libraries' batches alternate. Idle threads of both spin before they
     * sleep (hvp4j's workers 0.1 ms, OpenBLAS's up to 2^28 cycles, about 80 ms): without a pause the batch timed
     * second shares the cores with the first one's spinning threads. Measured on 256^3 f32, 2 threads, Zen 4:
     * hvp4j 90 GFLOP/s right after OpenBLAS, 160 alone.
     */
    public static final long QUIESCE_MILLIS = 250;

    /**
     * Milliseconds per call of {@code calls} back-to-back calls of {@code op}, timed after a pause of
     * {@link #QUIESCE_MILLIS} (for alternating batches of different libraries).
     *
     * @param op    the call
     * @param calls calls in the batch
     * @return milliseconds per call
     */
    public static double batchMillis(Runnable op, int calls) {
        try {
            Thread.sleep(QUIESCE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            op.run();
        }
        return (System.nanoTime() - t0) / 1e6 / calls;
    }

    /**
     * How a warm-up ended.
     *
     * @param millis     its length
     * @param jitSettled whether the JIT had gone quiet (false: stopped at the time cap)
     */
    public record WarmUp(long millis, boolean jitSettled) {
    }

    /**
     * Runs {@code round} until the JIT compiler has settled: at least two rounds and {@code minMillis}, then
     * until {@code quietMillis} have passed in which the JIT compiled nothing, or {@code maxMillis} in all (a JVM
     * without compilation-time monitoring stops at {@code minMillis}, reported as not settled). A
     * fixed warm-up is not enough on 2 cores: C2 compiles the engine's many kernels on the same cores that are
     * timed. Measured with {@code hvp4j bench} (784,512,512,10, B = 256, f32, 2 threads, 10 reps): after 3 s
     * the forward took 18.4 ms and the gradient 35.5 ms; after 10 s, 5.3 and 12.0 ms.
     *
     * @param round       one round of the work
     * @param minMillis   warm-up time at least
     * @param quietMillis how long the JIT must compile nothing
     * @param maxMillis   warm-up time at most
     * @return how the warm-up ended
     */
    public static WarmUp warmUp(Runnable round, long minMillis, long quietMillis, long maxMillis) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        LongSupplier compileMillis = jit != null && jit.isCompilationTimeMonitoringSupported()
                ? jit::getTotalCompilationTime : null;
        return warmUp(round, minMillis, quietMillis, maxMillis, compileMillis, System::nanoTime);
    }

    /** {@link #warmUp(Runnable, long, long, long)} with the JIT's clock and the wall clock given (for tests). */
    static WarmUp warmUp(Runnable round, long minMillis, long quietMillis, long maxMillis,
                         LongSupplier compileMillis, LongSupplier nanoTime) {
        if (minMillis < 0 || quietMillis < 0 || maxMillis < minMillis) {
            throw new IllegalArgumentException("need 0 <= minMillis <= maxMillis and quietMillis >= 0, got "
                    + minMillis + ", " + quietMillis + ", " + maxMillis);
        }
        long start = nanoTime.getAsLong();
        long lastCompile = compileMillis == null ? 0 : compileMillis.getAsLong();
        long quietSince = start;
        for (int rounds = 0; ; rounds++) {
            long now = nanoTime.getAsLong();
            long elapsed = (now - start) / 1_000_000L;
            if (rounds >= 2 && elapsed >= minMillis) {
                // Without JIT monitoring nothing can tell a settled JIT apart: stop at the minimum.
                boolean quiet = compileMillis != null && (now - quietSince) / 1_000_000L >= quietMillis;
                if (quiet || compileMillis == null || elapsed >= maxMillis) {
                    return new WarmUp(elapsed, quiet);
                }
            }
            round.run();
            if (compileMillis != null) {
                long c = compileMillis.getAsLong();
                if (c != lastCompile) {
                    lastCompile = c;
                    quietSince = nanoTime.getAsLong();
                }
            }
        }
    }

    /**
     * The median (mean of the middle two for an even count); sorts a copy.
     *
     * @param values the values
     * @return their median
     */
    public static double median(double[] values) {
        double[] t = values.clone();
        Arrays.sort(t);
        int n = t.length;
        return n % 2 == 1 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    }
}
