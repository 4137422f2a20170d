package io.hvp4j.perf;

import io.hvp4j.memory.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

/**
 * The FMA peak of one core: {@code pipes × 2 × lanes × GHz} GFLOP/s, with lanes of the JVM's preferred vector
 * shape (8 f32 / 4 f64 with AVX2), {@value #FMA_PIPES} FMA pipes (Zen 2/3/4, Intel since Haswell; an assumption,
 * not measured) and the clock from {@code $HVP4J_CLOCK_GHZ} if set, else the largest "cpu MHz" in
 * {@code /proc/cpuinfo} (the kernel's reading: the nominal clock on most VMs; cores that boost above it can exceed
 * 100% of this peak, as OpenBLAS does on the reference machine), else 2.45 GHz.
 */
public final class FmaPeak {
    public static final int FMA_PIPES = 2;
    private static final double FALLBACK_GHZ = 2.45;

    private final double ghz;
    private final String clockSource;

    private FmaPeak(double ghz, String clockSource) {
        this.ghz = ghz;
        this.clockSource = clockSource;
    }

    /** The peak of this machine (see the class comment for where the clock comes from). */
    public static FmaPeak detect() {
        String env = System.getenv("HVP4J_CLOCK_GHZ");
        if (env != null && !env.isBlank()) {
            try {
                double g = Double.parseDouble(env.trim());
                if (g > 0 && Double.isFinite(g)) {
                    return new FmaPeak(g, "HVP4J_CLOCK_GHZ");
                }
            } catch (NumberFormatException e) {
                // fall through to /proc/cpuinfo
            }
        }
        double mhz = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("cpu MHz")) {
                    int colon = line.indexOf(':');
                    mhz = Math.max(mhz, Double.parseDouble(line.substring(colon + 1).trim()));
                }
            }
        } catch (IOException | RuntimeException e) {
            mhz = 0;
        }
        return mhz > 0 ? new FmaPeak(mhz / 1000, "/proc/cpuinfo cpu MHz") : new FmaPeak(FALLBACK_GHZ, "assumed");
    }

    /** A peak for a given clock (for tests and for reproducing a report). */
    public static FmaPeak ofClock(double ghz) {
        return new FmaPeak(ghz, "given");
    }

    public double ghz() {
        return ghz;
    }

    /** "HVP4J_CLOCK_GHZ", "/proc/cpuinfo cpu MHz", "assumed" or "given". */
    public String clockSource() {
        return clockSource;
    }

    /** Peak GFLOP/s of {@code threads} cores in {@code dtype}. */
    public double gflops(DType dtype, int threads) {
        int lanes = dtype == DType.F32 ? FloatVector.SPECIES_PREFERRED.length() : DoubleVector.SPECIES_PREFERRED.length();
        return FMA_PIPES * 2.0 * lanes * ghz * threads;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%.2f GHz (%s) x %d FMA pipes", ghz, clockSource, FMA_PIPES);
    }
}
