package io.hvp4j.perf;

import io.hvp4j.memory.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The FMA peak of one core: {@code pipes × 2 × lanes × GHz} GFLOP/s, with lanes of the JVM's preferred vector
 * shape (8 f32 / 4 f64 with AVX2) capped by the width of the FMA datapath, {@value #FMA_PIPES} FMA pipes (Zen 2/3/4,
 * Intel since Haswell; an assumption, not measured) and the clock from {@code $HVP4J_CLOCK_GHZ} if set, else the largest "cpu MHz" in
 * {@code /proc/cpuinfo} (the kernel's reading: the nominal clock on most VMs; cores that boost above it can exceed
 * 100% of this peak, as OpenBLAS does on the reference machine), else 2.45 GHz. AMD cores up to family 25 (Zen 4)
 * run 512-bit instructions as two 256-bit halves, so their datapath is 256 bits even where the JVM prefers 512-bit
 * vectors: counting 16 f32 lanes there would double the peak.
 */
public final class FmaPeak {
    /** FMA pipes per core (two on every x86 core the project targets). */
    public static final int FMA_PIPES = 2;
    private static final double FALLBACK_GHZ = 2.45;

    private final double ghz;
    private final String clockSource;
    private final int datapathBits;

    private FmaPeak(double ghz, String clockSource, int datapathBits) {
        this.ghz = ghz;
        this.clockSource = clockSource;
        this.datapathBits = datapathBits;
    }

    private FmaPeak(double ghz, String clockSource) {
        this(ghz, clockSource, DATAPATH_BITS);
    }

    private static final int DATAPATH_BITS = detectDatapathBits();

    /** 256 on AMD families up to 25 (Zen 1-4 split 512-bit FMAs in two); otherwise the preferred vector width. */
    private static int detectDatapathBits() {
        int vectorBits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String vendor = "";
        int family = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon).trim(), value = line.substring(colon + 1).trim();
                if (key.equals("vendor_id") && vendor.isEmpty()) {
                    vendor = value;
                } else if (key.equals("cpu family") && family < 0) {
                    family = Integer.parseInt(value);
                }
            }
        } catch (IOException | RuntimeException e) {
            return vectorBits;
        }
        return datapathBits(vendor, family, vectorBits);
    }

    /** The FMA datapath width for a CPU vendor and family given the JVM's preferred vector width (bits). */
    static int datapathBits(String vendor, int family, int vectorBits) {
        return "AuthenticAMD".equals(vendor) && family >= 0 && family <= 25 ? Math.min(256, vectorBits) : vectorBits;
    }

    /**
     * The peak of this machine at its nominal clock (see the class comment for where the clock comes from).
     *
     * @return the peak
     */
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

    /**
     * The peak with the clock this core actually runs FMAs at: an FMA-only loop on the calling thread (twelve
     * independent chains, enough to cover the FMA latency on both pipes), best of rounds of about 3 ms until the
     * rate settles, divided by the flops per cycle of {@link #gflops}. Boosting cores run above the nominal clock of
     * {@link #detect()}, so this is the honest denominator for "% of peak". Falls back to the nominal clock when the
     * loop reaches less than half of it (not compiled in time, or the CPU is busy). {@code $HVP4J_CLOCK_GHZ} still
     * wins when set. Takes 0.3–3 s.
     *
     * @return the peak at the measured clock
     */
    public static FmaPeak measure() {
        String env = System.getenv("HVP4J_CLOCK_GHZ");
        if (env != null && !env.isBlank()) {
            return detect();
        }
        FmaPeak nominal = detect();
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        int iters = 1 << 14;
        double best = 0;
        float sink = 0;
        // Until the best rate has not grown by 1% for 20 rounds, 0.3 s have passed and it is at least half the
        // nominal rate (at most 3 s): in a busy JVM (a test run) C2 can take a while to compile the loop, and the
        // loop before that is 50x slower.
        double perCycle = nominal.gflops(DType.F32, 1) / nominal.ghz;
        double plausible = 0.5 * nominal.ghz * perCycle;
        long start = System.nanoTime();
        for (int stale = 0; ; ) {
            long t0 = System.nanoTime();
            sink += fmaChains(iters);
            long t1 = System.nanoTime();
            double rate = 12.0 * 2 * lanes * iters / Math.max(1, t1 - t0);
            if (rate > best * 1.01) {
                best = rate;
                stale = 0;
            } else {
                stale++;
            }
            long elapsed = t1 - start;
            if ((stale >= 20 && elapsed > 300_000_000L && best >= plausible) || elapsed > 3_000_000_000L) {
                break;
            }
        }
        double ghz = best / perCycle;
        if (!(ghz >= 0.5 * nominal.ghz) || sink == 42.4242f) {
            // Not compiled in time, or starved of CPU: the nominal clock is the better guess.
            return new FmaPeak(nominal.ghz, nominal.clockSource + " (the FMA loop reached only "
                    + String.format(Locale.ROOT, "%.2f", ghz) + " GHz)", nominal.datapathBits);
        }
        return new FmaPeak(ghz, "measured: FMA loop, 1 thread", nominal.datapathBits);
    }

    /**
     * Twelve independent FMA chains of {@code iters} steps each, c += m*a (at most 0.22 + iters/1000: no overflow
     * or denormals). The chain value must be the addend: C2 then emits one vfmadd231ps per step, while
     * {@code c.fma(m, a)} costs a register copy of {@code a} per FMA and measured only 0.7x of a C loop on Zen 3.
     */
    private static float fmaChains(int iters) {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        FloatVector m = FloatVector.broadcast(s, 0.999f), a = FloatVector.broadcast(s, 0.001f);
        FloatVector c0 = FloatVector.broadcast(s, 0.1f), c1 = c0.add(0.01f), c2 = c0.add(0.02f), c3 = c0.add(0.03f);
        FloatVector c4 = c0.add(0.04f), c5 = c0.add(0.05f), c6 = c0.add(0.06f), c7 = c0.add(0.07f);
        FloatVector c8 = c0.add(0.08f), c9 = c0.add(0.09f), c10 = c0.add(0.10f), c11 = c0.add(0.11f);
        for (int i = 0; i < iters; i++) {
            c0 = m.fma(a, c0);
            c1 = m.fma(a, c1);
            c2 = m.fma(a, c2);
            c3 = m.fma(a, c3);
            c4 = m.fma(a, c4);
            c5 = m.fma(a, c5);
            c6 = m.fma(a, c6);
            c7 = m.fma(a, c7);
            c8 = m.fma(a, c8);
            c9 = m.fma(a, c9);
            c10 = m.fma(a, c10);
            c11 = m.fma(a, c11);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    /**
     * A peak for a given clock (for tests and for reproducing a report).
     *
     * @param ghz the clock
     * @return the peak with this machine's datapath
     */
    public static FmaPeak ofClock(double ghz) {
        return new FmaPeak(ghz, "given");
    }

    /**
     * A peak for a given clock and FMA datapath (for tests and other machines).
     *
     * @param ghz          the clock
     * @param datapathBits one FMA pipe's width, a power of two of at least 64
     * @return the peak
     */
    public static FmaPeak of(double ghz, int datapathBits) {
        if (datapathBits < 64 || Integer.bitCount(datapathBits) != 1) {
            throw new IllegalArgumentException("datapath must be a power of two >= 64 bits, got " + datapathBits);
        }
        return new FmaPeak(ghz, "given", datapathBits);
    }

    /**
     * One FMA pipe's datapath.
     *
     * @return its width in bits (256 on AVX2 machines and on Zen 4)
     */
    public int datapathBits() {
        return datapathBits;
    }

    /**
     * The clock.
     *
     * @return GHz
     */
    public double ghz() {
        return ghz;
    }

    /**
     * Where the clock came from.
     *
     * @return "HVP4J_CLOCK_GHZ", "/proc/cpuinfo cpu MHz", "measured: ...", "assumed" or "given"
     */
    public String clockSource() {
        return clockSource;
    }

    /**
     * The peak rate.
     *
     * @param dtype   the precision
     * @param threads cores
     * @return GFLOP/s of {@code threads} cores in {@code dtype}
     */
    public double gflops(DType dtype, int threads) {
        int lanes = dtype == DType.F32 ? FloatVector.SPECIES_PREFERRED.length() : DoubleVector.SPECIES_PREFERRED.length();
        lanes = Math.min(lanes, datapathBits / (dtype == DType.F32 ? Float.SIZE : Double.SIZE));
        return FMA_PIPES * 2.0 * lanes * ghz * threads;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%.2f GHz (%s) x %d FMA pipes x %d bits", ghz, clockSource, FMA_PIPES,
                datapathBits);
    }
}
