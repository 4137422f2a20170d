package io.hvp4j.backend.vector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dense GEMM on the JDK Vector API, structured like GotoBLAS/BLIS: k/m/n cache blocking, A and B packed into
 * per-thread panels, and an MR x (2 vectors) register-tiled micro-kernel per precision (MR = 6 with 512-bit vectors,
 * 4 with narrower ones unless {@link #ROWS_PROPERTY} asks for 6: see {@link #MR}).
 *
 * <p>Row-major {@code C = alpha*op(A)*op(B) + beta*C}; {@code op(A)} is m x k, {@code op(B)} is k x n. Element 0 of
 * each segment is element (0,0) of the stored matrix; lda/ldb/ldc are row strides (in elements) of the stored
 * matrices (A is stored m x k, or k x m when transposed; B k x n, or n x k). {@code beta == 0} never reads C;
 * {@code alpha == 0} or {@code k == 0} only scales C by beta. Elements are little-endian.
 *
 * <p>Determinism: every element of C is accumulated over the same k-blocks in the same order with the same
 * fused multiply-adds whatever the thread count and whatever tile (interior or edge) it falls in, so results are
 * bit-identical for any {@link WorkerPool} size. Threads split C into disjoint rectangles. When they split it by
 * rows they pack the shared panels of B together and meet at a barrier ({@link WorkerPool#runTogether}); otherwise
 * each packs its own panels with no synchronisation. Safe for concurrent calls (A panels are per thread; the shared
 * B panel is taken by one call at a time and a concurrent call allocates its own).
 */
public final class VectorGemm {
    /** System property that overrides the tile's rows ({@code 4} or {@code 6}); unset: chosen by vector width. */
    public static final String ROWS_PROPERTY = "hvp4j.gemm.rows";
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final int FL = FS.length();
    private static final int DL = DS.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(LE);

    /**
     * Micro-tile: MR rows x two vectors. 6 rows (12 accumulators) with 512-bit vectors (32 registers): the two-step
     * loop of {@link #kernelF32}, alone 93% of the FMA peak on Zen 5, 70-78% on a Sapphire-Rapids-class Xeon. 6 rows
     * with 256-bit vectors on x86 (16 registers): the same loop with compiler fences ({@link #FENCED}), spill-free at
     * 52 instructions per 24 FMAs; without the fences C2 loads a whole k-step's operands before its FMAs and 6 rows
     * (12 + 2 + 6 live vectors) spill an accumulator. 128-bit vectors, and 256-bit ones off x86 (not measured),
     * keep the 4-row tile ({@link #kernel4F32}: 8 + 2 + 4 live vectors, 19 instructions per 8 FMAs), which was the
     * x86 256-bit default until the fences cost no instructions. The system property {@code hvp4j.gemm.rows}
     * ({@code 4} or {@code 6}) overrides the choice, for measuring one tile against the other (see {@link #tileRows}).
     */
    static final int MR = tileRows(FS.vectorBitSize(), System.getProperty(ROWS_PROPERTY));
    /**
     * Whether the 6-row tile runs fenced: 6 rows on x86 with vectors under 512 bits, which come with 16 vector
     * registers. Elsewhere (AArch64 SVE, 32 registers) the fence would be a real barrier instruction and is not needed.
     */
    static final boolean FENCED = MR == 6 && FS.vectorBitSize() < 512 && isX86(System.getProperty("os.arch"));
    static final int NR_F = 2 * FL;
    static final int NR_D = 2 * DL;
    // Zen 3 (AVX2): 32 KiB L1d, 512 KiB L2 per core. f32: a kc x NR panel of B (32 KiB) streams from L1/L2, an
    // mc x kc block of A (192 KiB) stays in L2, a kc x nc panel of B in L3. kc = 512 rather than 256 halves the
    // read-modify-write passes over C, whose tiles miss in cache (measured: 1024^3 2 threads 65 -> 77 GFLOP/s).
    // f64: kc x NR panel 16 KiB, mc x kc block 144 KiB.
    // With 512-bit vectors (Zen 4/5: 1 MiB L2) f64 takes kc = 512, mc = 96 (A block 384 KiB): the C updates of
    // kc = 256 were 18% of the time at 2048^3 (JFR), and 1 thread went 42 -> 46, 2 threads 81 -> 89 GFLOP/s.
    // f32 takes kc = 1024 there (A block 384 KiB, B panel 128 KiB in L2): on Zen 5, 2 threads, against OpenBLAS's
    // AVX-512 kernels in the same run, 1024^3 went 78% -> 90% and 2048^3 76% -> 86% (kc = 512 stays the faster
    // choice for the micro-kernel alone; the gain is one read-modify-write pass over C fewer per 1024 of k).
    // f32 nc keeps the kc x nc panel of B at 4 MiB with either vector width (512-bit: nc = 1024, as f64's panel
    // there): then the C columns of one panel (m x nc) stay in L3 from one k-block to the next. Zen 5, f32 2048^3,
    // paired windows against nc = 2048: 2 threads +0.5..+8.9% (median of four runs +3.7%), 1 thread +3.8%,
    // 1024x4096x1024 +8%.
    static final int KC_F = FL >= 16 ? 1024 : 512;
    static final int MC_F = 96;
    static final int NC_F = FL >= 16 ? 1024 : 2048;
    static final int KC_D = DL >= 8 ? 512 : 256;
    static final int MC_D = DL >= 8 ? 96 : 72;
    static final int NC_D = 1024;
    /** Below this many multiply-adds a plain loop beats packing. */
    static final long DIRECT_MAX = 4096;
    /** Below this many multiply-adds waking a second thread costs more than it saves. */
    static final long PAR_MIN = 1L << 17;
    /** Rough cost of packing one element, in multiply-adds, for choosing how to split C between threads. */
    private static final long PACK_COST = 8;
    /**
     * Index and blend tables of the vector transpose that packs a full 6-row panel of A ({@link #panel6F32}): output
     * vector j of a 6 x L block holds interleaved elements jL..jL+L-1, element e = (k-step e/6, row e%6). Entry
     * [(j*3 + q)*L + i] is the lane of the row pair (2q, 2q+1) that lane i takes, as a two-vector index (the second
     * row's lanes count from L); the mask marks the lanes that pair supplies.
     */
    private static final float[] A6_IDX_F = Transposes.floats(panelIndex(6, FL));
    private static final boolean[] A6_MASK_F = panelMask(6, FL);
    private static final double[] A6_IDX_D = Transposes.doubles(panelIndex(6, DL));
    private static final boolean[] A6_MASK_D = panelMask(6, DL);
    /** The same for a full 4-row panel ({@link #panel4F32}): row pairs (0, 1) and (2, 3), entry [(j*2 + q)*L + i]. */
    private static final float[] A4_IDX_F = Transposes.floats(panelIndex(4, FL));
    private static final boolean[] A4_MASK_F = panelMask(4, FL);
    /**
     * f64 moves its 64-bit lanes as pairs of int lanes ({@link #panel4F64}): a two-vector selection of DoubleVectors
     * with 4 lanes is not intrinsified on AVX2 (measured 10 ns per element), one of IntVectors is.
     */
    private static final VectorSpecies<Integer> IS_D =
            VectorSpecies.of(int.class, VectorShape.forBitSize(DS.vectorBitSize()));
    private static final int[] A4_IDX_DI = Transposes.intPairs(panelIndex(4, DL));
    private static final boolean[] A4_MASK_DI = Transposes.pairs(panelMask(4, DL));
    /** Lanes of one k-step's load when packing a transposed A: MR rows rounded up to a vector shape (4 or 8). */
    private static final int TA_LANES = MR == 6 ? 8 : 4;
    private static final VectorSpecies<Float> TA_F32 =
            VectorSpecies.of(float.class, VectorShape.forBitSize(32 * TA_LANES));
    /** f64 with 6 rows and 256-bit vectors loads 4 + 4 lanes (an 8-lane DoubleVector is not intrinsified on AVX2). */
    private static final int TA_LANES_D = MR == 6 && DL < 8 ? 4 : TA_LANES;
    private static final VectorSpecies<Double> TA_F64 =
            VectorSpecies.of(double.class, VectorShape.forBitSize(64 * TA_LANES_D));

    private final WorkerPool pool;
    private final ThreadLocal<Buffers> buffers = ThreadLocal.withInitial(Buffers::new);
    /** The B panel shared by the threads of one call, kept for the next call (taken while in use). */
    private final AtomicReference<float[]> sharedF32 = new AtomicReference<>();
    private final AtomicReference<double[]> sharedF64 = new AtomicReference<>();

    public VectorGemm(WorkerPool pool) {
        this.pool = Objects.requireNonNull(pool, "pool");
    }

    public int threads() {
        return pool.threads();
    }

    /** Packing buffers of one thread, grown on demand and reused across calls. */
    private static final class Buffers {
        final float[] f32T = new float[MR * NR_F];
        final double[] f64T = new double[MR * NR_D];
        private float[] a32 = new float[0];
        private float[] b32 = new float[0];
        private double[] a64 = new double[0];
        private double[] b64 = new double[0];
        private float[] t32 = new float[0];
        private double[] t64 = new double[0];

        float[] f32A(int n) {
            return a32.length >= n ? a32 : (a32 = new float[n]);
        }

        float[] f32B(int n) {
            return b32.length >= n ? b32 : (b32 = new float[n]);
        }

        double[] f64A(int n) {
            return a64.length >= n ? a64 : (a64 = new double[n]);
        }

        double[] f64B(int n) {
            return b64.length >= n ? b64 : (b64 = new double[n]);
        }

        float[] f32Tmp(int n) {
            return t32.length >= n ? t32 : (t32 = new float[n]);
        }

        double[] f64Tmp(int n) {
            return t64.length >= n ? t64 : (t64 = new double[n]);
        }
    }

    // ---------------------------------------------------------------- shared

    private static void checkArgs(boolean transA, boolean transB, int m, int n, int k, MemorySegment a, int lda,
                                  MemorySegment b, int ldb, MemorySegment c, int ldc, int elem) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative gemm size m=" + m + " n=" + n + " k=" + k);
        }
        checkOperand("A", a, transA ? k : m, transA ? m : k, lda, elem);
        checkOperand("B", b, transB ? n : k, transB ? k : n, ldb, elem);
        checkOperand("C", c, m, n, ldc, elem);
    }

    private static void checkOperand(String name, MemorySegment s, int rows, int cols, int ld, int elem) {
        Objects.requireNonNull(s, name);
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(name + ": leading dimension " + ld + " < " + Math.max(1, cols));
        }
        if (rows > 0 && cols > 0) {
            long need = ((long) (rows - 1) * ld + cols) * elem;
            if (s.byteSize() < need) {
                throw new IllegalArgumentException(name + ": segment of " + s.byteSize() + " bytes, need " + need
                        + " for " + rows + "x" + cols + " with leading dimension " + ld);
            }
        }
    }

    /** Whether computing C^T = op(B)^T op(A)^T wastes clearly fewer padded tile elements. */
    static boolean swap(int m, int n, int nr) {
        long normal = (long) roundUp(m, MR) * roundUp(n, nr);
        long swapped = (long) roundUp(n, MR) * roundUp(m, nr);
        return swapped * 8 < normal * 7;
    }

    /**
     * Splits C into tm x tn rectangles (returns {tm, tn}), one per thread, minimising the largest share of
     * multiply-adds plus packing. Depends only on the shape and the pool size.
     */
    static int[] grid(int m, int n, int k, int mr, int nr, int nc, int threads) {
        return grid(m, n, k, mr, nr, nc, threads, false);
    }

    /** As above; with {@code sharedB} a row split (tn = 1) packs 1/tm of B per thread (see sharedBF32). */
    static int[] grid(int m, int n, int k, int mr, int nr, int nc, int threads, boolean sharedB) {
        int tilesM = ceilDiv(m, mr), tilesN = ceilDiv(n, nr);
        long t = (long) m * n * k < PAR_MIN ? 1 : Math.min(threads, (long) tilesM * tilesN);
        for (; t > 1; t--) {
            int[] best = null;
            long bestCost = Long.MAX_VALUE;
            for (int tm = 1; tm <= t; tm++) {
                int tn = (int) (t / tm);
                if (t % tm != 0 || tm > tilesM || tn > tilesN) {
                    continue;
                }
                long mt = (long) ceilDiv(tilesM, tm) * mr, nt = (long) ceilDiv(tilesN, tn) * nr;
                long packB = sharedB && tn == 1 ? ceilDiv((int) nt, tm) : nt;
                long cost = mt * nt * k + PACK_COST * k * (packB + mt * ((nt + nc - 1) / nc));
                if (cost < bestCost) {
                    bestCost = cost;
                    best = new int[] {tm, tn};
                }
            }
            if (best != null) {
                return best;
            }
        }
        return new int[] {1, 1};
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }

    /**
     * Rows of the micro-tile for the preferred vector size in bits: 6 with 512-bit vectors, and with 256-bit ones on
     * x86 (the fenced tile); else 4 (128 bits, and 256-bit vectors elsewhere, where the 6-row tile is unmeasured);
     * {@code requested} ("4" or "6", the {@link #ROWS_PROPERTY}; null for the automatic choice) overrides it, 6 only
     * with vectors of 256 bits or more.
     */
    static int tileRows(int vectorBits, String requested) {
        if (requested == null || requested.isEmpty()) {
            return vectorBits >= 512 || vectorBits >= 256 && isX86(System.getProperty("os.arch")) ? 6 : 4;
        }
        if (requested.equals("4") || requested.equals("6") && vectorBits >= 256) {
            return Integer.parseInt(requested);
        }
        throw new IllegalStateException(ROWS_PROPERTY + "=" + requested + ": must be 4 or 6 (6 needs vectors of at"
                + " least 256 bits; these have " + vectorBits + ")");
    }

    static boolean isX86(String arch) {
        return "amd64".equals(arch) || "x86_64".equals(arch);
    }

    /** The micro-kernel of this JVM: {@code 4x2}, {@code 6x2} or {@code 6x2-fenced}, and the vector width. */
    public static String kernel() {
        return kernelName(MR, FS.vectorBitSize()) + " (" + FS.vectorBitSize() + "-bit vectors)";
    }

    static String kernelName(int rows, int vectorBits) {
        return rows == 4 ? "4x2" : vectorBits < 512 && isX86(System.getProperty("os.arch")) ? "6x2-fenced" : "6x2";
    }

    /** Two-vector lane indices of the rows-tall panel transpose (rows even): see A6_IDX_F. */
    private static int[] panelIndex(int rows, int lanes) {
        int pairs = rows / 2;
        int[] idx = new int[rows * pairs * lanes];
        for (int e = 0; e < rows * lanes; e++) {
            int j = e / lanes, i = e % lanes, p = e / rows, r = e % rows;
            idx[(j * pairs + r / 2) * lanes + i] = (r % 2) * lanes + p;
        }
        return idx;
    }

    private static boolean[] panelMask(int rows, int lanes) {
        int pairs = rows / 2;
        boolean[] mask = new boolean[rows * pairs * lanes];
        for (int e = 0; e < rows * lanes; e++) {
            int j = e / lanes, i = e % lanes, r = e % rows;
            mask[(j * pairs + r / 2) * lanes + i] = true;
        }
        return mask;
    }

    // ---------------------------------------------------------------- f32

    /** Row-major {@code C = alpha*op(A)*op(B) + beta*C} in single precision; see the class comment. */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
                      MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, Float.BYTES);
        if (m == 0 || n == 0) {
            return;
        }
        if (alpha == 0 || k == 0) {
            scaleF32(m, n, beta, c, ldc);
            return;
        }
        long ars = transA ? 1 : lda, acs = transA ? lda : 1;
        long brs = transB ? 1 : ldb, bcs = transB ? ldb : 1;
        if ((long) m * n * k < DIRECT_MAX) {
            directF32(m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, ldc, 1);
        } else if (swap(m, n, NR_F)) {
            // C^T = op(B)^T op(A)^T: pads less when n is narrower than a micro-tile.
            blockedF32(n, m, k, alpha, b, bcs, brs, a, acs, ars, beta, c, 1, ldc);
        } else {
            blockedF32(m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, ldc, 1);
        }
    }

    private static void scaleF32(int m, int n, float beta, MemorySegment c, long ldc) {
        if (beta == 1) {
            return;
        }
        for (int i = 0; i < m; i++) {
            long o = i * ldc * Float.BYTES;
            for (int j = 0; j < n; j++, o += Float.BYTES) {
                c.set(F32, o, beta == 0 ? 0f : beta * c.get(F32, o));
            }
        }
    }

    private static void directF32(int m, int n, int k, float alpha, MemorySegment a, long ars, long acs,
                                  MemorySegment b, long brs, long bcs, float beta, MemorySegment c, long crs,
                                  long ccs) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    s = Math.fma(a.get(F32, (i * ars + p * acs) * Float.BYTES),
                            b.get(F32, (p * brs + j * bcs) * Float.BYTES), s);
                }
                long o = (i * crs + j * ccs) * Float.BYTES;
                c.set(F32, o, beta == 0 ? alpha * s : alpha * s + beta * c.get(F32, o));
            }
        }
    }

    private void blockedF32(int m, int n, int k, float alpha, MemorySegment a, long ars, long acs,
                            MemorySegment b, long brs, long bcs, float beta, MemorySegment c, long crs, long ccs) {
        boolean together = pool.canRunTogether();
        int[] grid = grid(m, n, k, MR, NR_F, NC_F, pool.threads(), together);
        int tm = grid[0], tn = grid[1];
        int tilesM = ceilDiv(m, MR), tilesN = ceilDiv(n, NR_F);
        if (together && tn == 1 && tm > 1) {
            sharedBF32(tm, m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, crs, ccs);
            return;
        }
        pool.run(tm * tn, part -> {
            int pi = part / tn, pj = part % tn;
            int i0 = (int) WorkerPool.split(tilesM, tm, pi) * MR;
            int i1 = Math.min(m, (int) WorkerPool.split(tilesM, tm, pi + 1) * MR);
            int j0 = (int) WorkerPool.split(tilesN, tn, pj) * NR_F;
            int j1 = Math.min(n, (int) WorkerPool.split(tilesN, tn, pj + 1) * NR_F);
            if (i0 < i1 && j0 < j1) {
                blockF32(i0, i1, j0, j1, k, alpha, a, ars, acs, b, brs, bcs, beta, c, crs, ccs);
            }
        });
    }

    /**
     * Rows of C split between {@code parts} threads that pack each k x nc panel of B together (each its share of
     * the NR-wide panels) and then all read it: every thread packs 1/parts of B instead of all of it, and the panel
     * sits once in the shared cache. Two barriers per panel: after packing, and before it is overwritten. The
     * arithmetic per element of C is that of {@link #blockF32}, so the bits do not depend on the path.
     */
    private void sharedBF32(int parts, int m, int n, int k, float alpha, MemorySegment a, long ars, long acs,
                            MemorySegment b, long brs, long bcs, float beta, MemorySegment c, long crs, long ccs) {
        int kcMax = Math.min(KC_F, k);
        int need = roundUp(Math.min(NC_F, n), NR_F) * kcMax;
        float[] cached = sharedF32.getAndSet(null);
        float[] pb = cached != null && cached.length >= need ? cached : new float[need];
        int tilesM = ceilDiv(m, MR);
        SpinBarrier barrier = new SpinBarrier(parts);
        try {
            pool.runTogether(parts, barrier, part -> {
                Buffers buf = buffers.get();
                float[] pa = buf.f32A(MC_F * kcMax);
                float[] tmp = buf.f32Tmp(NR_F * kcMax);
                float[] t = buf.f32T;
                int i0 = (int) WorkerPool.split(tilesM, parts, part) * MR;
                int i1 = Math.min(m, (int) WorkerPool.split(tilesM, parts, part + 1) * MR);
                for (int jc = 0; jc < n; jc += NC_F) {
                    int nc = Math.min(NC_F, n - jc);
                    int panels = ceilDiv(nc, NR_F);
                    int q0 = (int) WorkerPool.split(panels, parts, part) * NR_F;
                    int q1 = Math.min(nc, (int) WorkerPool.split(panels, parts, part + 1) * NR_F);
                    for (int pc = 0; pc < k; pc += KC_F) {
                        int kc = Math.min(KC_F, k - pc);
                        boolean first = pc == 0;
                        float bet = first ? beta : 1;
                        boolean overwrite = first && beta == 0;
                        if (q0 < q1) {
                            packBF32(pb, q0 * kc, tmp, b, brs, bcs, pc, kc, jc + q0, q1 - q0);
                        }
                        barrier.await();
                        for (int ic = i0; ic < i1; ic += MC_F) {
                            int mc = Math.min(MC_F, i1 - ic);
                            packAF32(pa, tmp, a, ars, acs, ic, mc, pc, kc);
                            macroF32(ic, mc, jc, nc, kc, pa, pb, t, c, crs, ccs, alpha, bet, overwrite);
                        }
                        barrier.await();
                    }
                }
            });
        } finally {
            sharedF32.set(pb);
        }
    }

    /** The two inner loops over one packed mc x kc block of A and kc x nc panel of B: C tiles at (ic, jc). */
    private static void macroF32(int ic, int mc, int jc, int nc, int kc, float[] pa, float[] pb, float[] t, MemorySegment c,
                                long crs, long ccs, float alpha, float bet, boolean overwrite) {
        for (int jr = 0; jr < nc; jr += NR_F) {
            int nr = Math.min(NR_F, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                long co = ((ic + ir) * crs + (jc + jr) * ccs) * Float.BYTES;
                if (MR == 4) {
                    kernel4F32(kc, pa, ir * kc, pb, jr * kc, t);
                } else {
                    kernelF32(kc, pa, ir * kc, pb, jr * kc, t);
                }
                if (mr == MR && nr == NR_F && ccs == 1) {
                    storeFullF32(t, c, co, crs * Float.BYTES, alpha, bet, overwrite);
                } else {
                    storeF32(t, mr, nr, c, co, crs, ccs, alpha, bet, overwrite);
                }
            }
        }
    }

    /** One thread's share: the GotoBLAS loops over C[i0:i1, j0:j1]; the k-blocking is the same for every share. */
    private void blockF32(int i0, int i1, int j0, int j1, int k, float alpha, MemorySegment a, long ars, long acs,
                          MemorySegment b, long brs, long bcs, float beta, MemorySegment c, long crs, long ccs) {
        Buffers buf = buffers.get();
        int kcMax = Math.min(KC_F, k);
        float[] pa = buf.f32A(MC_F * kcMax);
        float[] pb = buf.f32B(roundUp(Math.min(NC_F, j1 - j0), NR_F) * kcMax);
        float[] t = buf.f32T;
        float[] tmp = buf.f32Tmp(NR_F * kcMax);
        for (int jc = j0; jc < j1; jc += NC_F) {
            int nc = Math.min(NC_F, j1 - jc);
            for (int pc = 0; pc < k; pc += KC_F) {
                int kc = Math.min(KC_F, k - pc);
                boolean first = pc == 0;
                float bet = first ? beta : 1f;
                boolean overwrite = first && beta == 0;
                packBF32(pb, 0, tmp, b, brs, bcs, pc, kc, jc, nc);
                for (int ic = i0; ic < i1; ic += MC_F) {
                    int mc = Math.min(MC_F, i1 - ic);
                    packAF32(pa, tmp, a, ars, acs, ic, mc, pc, kc);
                    macroF32(ic, mc, jc, nc, kc, pa, pb, t, c, crs, ccs, alpha, bet, overwrite);
                }
            }
        }
    }

    /** B[pc:pc+kc, jc:jc+nc] into NR-wide panels, element (p, j) of a panel at p*NR + j; zero padded. */
    private static void packBF32(float[] dst, int dOff, float[] tmp, MemorySegment b, long brs, long bcs, int pc,
                                 int kc, int jc, int nc) {
        int full = nc / NR_F * NR_F;
        if (bcs == 1) {
            // Rows of B are contiguous: vector copies for whole panels.
            for (int jr = 0; jr < full; jr += NR_F) {
                int d = dOff + jr * kc;
                long src = (pc * brs + jc + jr) * Float.BYTES;
                long step = brs * Float.BYTES;
                for (int p = 0; p < kc; p++, src += step, d += NR_F) {
                    FloatVector.fromMemorySegment(FS, b, src, LE).intoArray(dst, d);
                    FloatVector.fromMemorySegment(FS, b, src + (long) FL * Float.BYTES, LE).intoArray(dst, d + FL);
                }
            }
            if (full < nc) {
                int nr = nc - full, d = dOff + full * kc;
                for (int p = 0; p < kc; p++) {
                    MemorySegment.copy(b, F32, ((pc + p) * brs + jc + full) * Float.BYTES, dst, d + p * NR_F, nr);
                    Arrays.fill(dst, d + p * NR_F + nr, d + (p + 1) * NR_F, 0f);
                }
            }
        } else {
            // Columns of B are contiguous (transposed B): bulk-copy a panel's columns, then interleave them so
            // that the stores into the panel are sequential.
            for (int jr = 0; jr < nc; jr += NR_F) {
                int nr = Math.min(NR_F, nc - jr);
                if (Transposes.F32_FAST && nr == NR_F && brs == 1) {
                    // Full panel: register-block transposes straight from B, the last k-steps one by one.
                    int steps = kc / Transposes.F32_SIDE * Transposes.F32_SIDE, d = dOff + jr * kc;
                    for (int h = 0; h < NR_F; h += Transposes.F32_SIDE) {
                        long col = ((jc + jr + h) * bcs + pc) * Float.BYTES;
                        for (int p = 0; p < steps; p += Transposes.F32_SIDE) {
                            Transposes.f32(b, col + (long) p * Float.BYTES, bcs * Float.BYTES, dst, d + p * NR_F + h,
                                    NR_F);
                        }
                    }
                    for (int p = steps; p < kc; p++) {
                        for (int j = 0; j < NR_F; j++) {
                            dst[d + p * NR_F + j] = b.get(F32, ((jc + jr + j) * bcs + pc + p) * Float.BYTES);
                        }
                    }
                    continue;
                }
                for (int j = 0; j < nr; j++) {
                    MemorySegment.copy(b, F32, ((jc + jr + j) * bcs + pc * brs) * Float.BYTES, tmp, j * kc, kc);
                }
                Arrays.fill(tmp, nr * kc, NR_F * kc, 0f);
                interleaveF32(tmp, kc, NR_F, dst, dOff + jr * kc);
            }
        }
    }

    /** A[ic:ic+mc, pc:pc+kc] into MR-tall panels, element (r, p) of a panel at p*MR + r; zero padded. */
    private static void packAF32(float[] dst, float[] tmp, MemorySegment a, long ars, long acs, int ic, int mc, int pc,
                                 int kc) {
        if (acs == 1) {
            // Rows of A are contiguous along k: a full 6- or 4-row panel by the vector transpose; otherwise
            // bulk-copy a panel's rows, then interleave them.
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                if (MR == 6 && mr == 6) {
                    if (SCALAR_PANEL6) {
                        panel6F32S(dst, ir * kc, a, ars, ic + ir, pc, kc);
                    } else {
                        panel6F32(dst, ir * kc, a, ars, ic + ir, pc, kc);
                    }
                    continue;
                }
                if (MR == 4 && mr == 4) {
                    panel4F32(dst, ir * kc, a, ars, ic + ir, pc, kc);
                    continue;
                }
                for (int r = 0; r < mr; r++) {
                    MemorySegment.copy(a, F32, ((ic + ir + r) * ars + pc) * Float.BYTES, tmp, r * kc, kc);
                }
                Arrays.fill(tmp, mr * kc, MR * kc, 0f);
                interleaveF32(tmp, kc, MR, dst, ir * kc);
            }
        } else {
            // Transposed A: for each k a panel's MR values are contiguous (ars is 1 whenever acs is not).
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                if (mr == MR && ars == 1) {
                    panelTAF32(dst, ir * kc, a, acs, ic + ir, pc, kc);
                    continue;
                }
                for (int p = 0; p < kc; p++) {
                    for (int r = 0; r < MR; r++) {
                        dst[ir * kc + MR * p + r] =
                                r < mr ? a.get(F32, ((pc + p) * acs + (ic + ir + r) * ars) * Float.BYTES) : 0f;
                    }
                }
            }
        }
    }

    /**
     * Whether full 6-row panels of A are packed by plain copies rather than by the vector transpose: with 256-bit
     * vectors (16 registers) the transpose's 18 index vectors and 12 masks spill (C2's loop: 844 spill moves in
     * 2188 instructions, f64), and copying is faster. Packing in isolation, ns per element, alternating JVMs, Zen 5
     * at -XX:UseAVX=2: f64 0.91-0.98 (transpose) against 0.43-0.47 (copy), f32 0.45-0.47 against 0.38-0.41. With
     * 512-bit vectors the transpose wins (f64 0.30-0.33 against 0.46-0.48, f32 0.14 against 0.39) and stays.
     */
    static final boolean SCALAR_PANEL6 = MR == 6 && FS.vectorBitSize() < 512;

    /** {@link #panel6F32}'s layout by element copies (see {@link #SCALAR_PANEL6}): six rows read in step. */
    private static void panel6F32S(float[] dst, int d, MemorySegment a, long ars, int ic, int pc, int kc) {
        long rs = ars * Float.BYTES;
        long o = (ic * ars + pc) * Float.BYTES;
        for (int p = 0; p < kc; p++, o += Float.BYTES) {
            int q = d + 6 * p;
            dst[q] = a.get(F32, o);
            dst[q + 1] = a.get(F32, o + rs);
            dst[q + 2] = a.get(F32, o + 2 * rs);
            dst[q + 3] = a.get(F32, o + 3 * rs);
            dst[q + 4] = a.get(F32, o + 4 * rs);
            dst[q + 5] = a.get(F32, o + 5 * rs);
        }
    }

    /** {@link #panel6F64}'s layout by element copies (see {@link #SCALAR_PANEL6}). */
    private static void panel6F64S(double[] dst, int d, MemorySegment a, long ars, int ic, int pc, int kc) {
        long rs = ars * Double.BYTES;
        long o = (ic * ars + pc) * Double.BYTES;
        for (int p = 0; p < kc; p++, o += Double.BYTES) {
            int q = d + 6 * p;
            dst[q] = a.get(F64, o);
            dst[q + 1] = a.get(F64, o + rs);
            dst[q + 2] = a.get(F64, o + 2 * rs);
            dst[q + 3] = a.get(F64, o + 3 * rs);
            dst[q + 4] = a.get(F64, o + 4 * rs);
            dst[q + 5] = a.get(F64, o + 5 * rs);
        }
    }

    /**
     * Rows ic..ic+5 of A (row stride ars elements), k-steps pc..pc+kc-1, into the 6-tall panel at dst[d]: element
     * (r, p) at d + 6p + r, as {@link #interleaveF32} would place it. Six row vectors of L k-steps become six output
     * vectors, each assembled by three two-vector lane selections (row pairs) and two blends; the k-steps past the
     * last full vector go one by one. With 512-bit vectors (256: {@link #SCALAR_PANEL6}) about 5x faster than
     * copying and interleaving (0.08 against 0.44 ns per element, f32, Zen 5), which was 10% of a 512^3 GEMM on
     * one thread.
     */
    private static void panel6F32(float[] dst, int d, MemorySegment a, long ars, int ic, int pc, int kc) {
        float[] x = A6_IDX_F;
        boolean[] mk = A6_MASK_F;
        final int l = FL;
        FloatVector i00 = FloatVector.fromArray(FS, x, 0);
        FloatVector i01 = FloatVector.fromArray(FS, x, l);
        FloatVector i02 = FloatVector.fromArray(FS, x, 2 * l);
        FloatVector i10 = FloatVector.fromArray(FS, x, 3 * l);
        FloatVector i11 = FloatVector.fromArray(FS, x, 4 * l);
        FloatVector i12 = FloatVector.fromArray(FS, x, 5 * l);
        FloatVector i20 = FloatVector.fromArray(FS, x, 6 * l);
        FloatVector i21 = FloatVector.fromArray(FS, x, 7 * l);
        FloatVector i22 = FloatVector.fromArray(FS, x, 8 * l);
        FloatVector i30 = FloatVector.fromArray(FS, x, 9 * l);
        FloatVector i31 = FloatVector.fromArray(FS, x, 10 * l);
        FloatVector i32 = FloatVector.fromArray(FS, x, 11 * l);
        FloatVector i40 = FloatVector.fromArray(FS, x, 12 * l);
        FloatVector i41 = FloatVector.fromArray(FS, x, 13 * l);
        FloatVector i42 = FloatVector.fromArray(FS, x, 14 * l);
        FloatVector i50 = FloatVector.fromArray(FS, x, 15 * l);
        FloatVector i51 = FloatVector.fromArray(FS, x, 16 * l);
        FloatVector i52 = FloatVector.fromArray(FS, x, 17 * l);
        VectorMask<Float> m01 = VectorMask.fromArray(FS, mk, l), m02 = VectorMask.fromArray(FS, mk, 2 * l);
        VectorMask<Float> m11 = VectorMask.fromArray(FS, mk, 4 * l), m12 = VectorMask.fromArray(FS, mk, 5 * l);
        VectorMask<Float> m21 = VectorMask.fromArray(FS, mk, 7 * l), m22 = VectorMask.fromArray(FS, mk, 8 * l);
        VectorMask<Float> m31 = VectorMask.fromArray(FS, mk, 10 * l), m32 = VectorMask.fromArray(FS, mk, 11 * l);
        VectorMask<Float> m41 = VectorMask.fromArray(FS, mk, 13 * l), m42 = VectorMask.fromArray(FS, mk, 14 * l);
        VectorMask<Float> m51 = VectorMask.fromArray(FS, mk, 16 * l), m52 = VectorMask.fromArray(FS, mk, 17 * l);
        long rs = ars * Float.BYTES;
        long base = (ic * ars + pc) * Float.BYTES;
        int full = kc / l * l;
        for (int p = 0; p < full; p += l) {
            long o = base + (long) p * Float.BYTES;
            FloatVector r0 = FloatVector.fromMemorySegment(FS, a, o, LE);
            FloatVector r1 = FloatVector.fromMemorySegment(FS, a, o + rs, LE);
            FloatVector r2 = FloatVector.fromMemorySegment(FS, a, o + 2 * rs, LE);
            FloatVector r3 = FloatVector.fromMemorySegment(FS, a, o + 3 * rs, LE);
            FloatVector r4 = FloatVector.fromMemorySegment(FS, a, o + 4 * rs, LE);
            FloatVector r5 = FloatVector.fromMemorySegment(FS, a, o + 5 * rs, LE);
            int q = d + 6 * p;
            i00.selectFrom(r0, r1).blend(i01.selectFrom(r2, r3), m01).blend(i02.selectFrom(r4, r5), m02)
                    .intoArray(dst, q);
            i10.selectFrom(r0, r1).blend(i11.selectFrom(r2, r3), m11).blend(i12.selectFrom(r4, r5), m12)
                    .intoArray(dst, q + l);
            i20.selectFrom(r0, r1).blend(i21.selectFrom(r2, r3), m21).blend(i22.selectFrom(r4, r5), m22)
                    .intoArray(dst, q + 2 * l);
            i30.selectFrom(r0, r1).blend(i31.selectFrom(r2, r3), m31).blend(i32.selectFrom(r4, r5), m32)
                    .intoArray(dst, q + 3 * l);
            i40.selectFrom(r0, r1).blend(i41.selectFrom(r2, r3), m41).blend(i42.selectFrom(r4, r5), m42)
                    .intoArray(dst, q + 4 * l);
            i50.selectFrom(r0, r1).blend(i51.selectFrom(r2, r3), m51).blend(i52.selectFrom(r4, r5), m52)
                    .intoArray(dst, q + 5 * l);
        }
        for (int p = full; p < kc; p++) {
            for (int r = 0; r < 6; r++) {
                dst[d + 6 * p + r] = a.get(F32, base + r * rs + (long) p * Float.BYTES);
            }
        }
    }

    /**
     * Rows ic..ic+3 of A, k-steps pc..pc+kc-1, into the 4-tall panel at dst[d] (element (r, p) at d + 4p + r): the
     * 4-row counterpart of {@link #panel6F32}. Four row vectors of L k-steps become four output vectors, each
     * two two-vector lane selections (row pairs) and one blend; the k-steps past the last full vector go one by one.
     */
    private static void panel4F32(float[] dst, int d, MemorySegment a, long ars, int ic, int pc, int kc) {
        float[] x = A4_IDX_F;
        boolean[] mk = A4_MASK_F;
        final int l = FL;
        FloatVector i00 = FloatVector.fromArray(FS, x, 0);
        FloatVector i01 = FloatVector.fromArray(FS, x, l);
        FloatVector i10 = FloatVector.fromArray(FS, x, 2 * l);
        FloatVector i11 = FloatVector.fromArray(FS, x, 3 * l);
        FloatVector i20 = FloatVector.fromArray(FS, x, 4 * l);
        FloatVector i21 = FloatVector.fromArray(FS, x, 5 * l);
        FloatVector i30 = FloatVector.fromArray(FS, x, 6 * l);
        FloatVector i31 = FloatVector.fromArray(FS, x, 7 * l);
        VectorMask<Float> m01 = VectorMask.fromArray(FS, mk, l), m11 = VectorMask.fromArray(FS, mk, 3 * l);
        VectorMask<Float> m21 = VectorMask.fromArray(FS, mk, 5 * l), m31 = VectorMask.fromArray(FS, mk, 7 * l);
        long rs = ars * Float.BYTES;
        long base = (ic * ars + pc) * Float.BYTES;
        int full = kc / l * l;
        for (int p = 0; p < full; p += l) {
            long o = base + (long) p * Float.BYTES;
            FloatVector r0 = FloatVector.fromMemorySegment(FS, a, o, LE);
            FloatVector r1 = FloatVector.fromMemorySegment(FS, a, o + rs, LE);
            FloatVector r2 = FloatVector.fromMemorySegment(FS, a, o + 2 * rs, LE);
            FloatVector r3 = FloatVector.fromMemorySegment(FS, a, o + 3 * rs, LE);
            int q = d + 4 * p;
            i00.selectFrom(r0, r1).blend(i01.selectFrom(r2, r3), m01).intoArray(dst, q);
            i10.selectFrom(r0, r1).blend(i11.selectFrom(r2, r3), m11).intoArray(dst, q + l);
            i20.selectFrom(r0, r1).blend(i21.selectFrom(r2, r3), m21).intoArray(dst, q + 2 * l);
            i30.selectFrom(r0, r1).blend(i31.selectFrom(r2, r3), m31).intoArray(dst, q + 3 * l);
        }
        for (int p = full; p < kc; p++) {
            for (int r = 0; r < 4; r++) {
                dst[d + 4 * p + r] = a.get(F32, base + r * rs + (long) p * Float.BYTES);
            }
        }
    }

    /**
     * Rows i..i+MR-1 of a transposed A (element (i, p) at p*acs + i), k-steps pc..pc+kc-1, into the MR-tall panel at
     * dst[d]: one load and store of TA_LANES lanes per k-step. With MR = 6 that is 8 lanes, and the two extra ones land
     * on the next step's slots and are rewritten by it; the last step goes one by one. The loads stay inside A: a
     * vector step's extra lanes reach at most into the next stored row (k-step p+1 <= pc+kc-1), which exists.
     */
    private static void panelTAF32(float[] dst, int d, MemorySegment a, long acs, int i, int pc, int kc) {
        long step = acs * Float.BYTES;
        long o = (pc * acs + i) * Float.BYTES;
        int p = 0;
        for (; p < kc - 1; p++, o += step) {
            FloatVector.fromMemorySegment(TA_F32, a, o, LE).intoArray(dst, d + MR * p);
        }
        for (; p < kc; p++, o += step) {
            for (int r = 0; r < MR; r++) {
                dst[d + MR * p + r] = a.get(F32, o + (long) r * Float.BYTES);
            }
        }
    }

    /** dst[d + p*width + j] = src[j*kc + p]: a width x kc transpose with sequential stores. */
    private static void interleaveF32(float[] src, int kc, int width, float[] dst, int d) {
        for (int p = 0; p < kc; p++) {
            int o = d + p * width;
            for (int j = 0, i = p; j < width; j++, i += kc) {
                dst[o + j] = src[i];
            }
        }
    }

    /**
     * The 4-row tile (128-bit vectors, or {@code hvp4j.gemm.rows=4}) over one k-block, into the scratch tile t. The
     * loop index is the A offset and B's offset is affine in it, so C2 drops the range checks from the loop.
     */
    private static void kernel4F32(int kc, float[] a, int ao, float[] b, int bo, float[] t) {
        FloatVector c00 = FloatVector.zero(FS), c01 = c00, c10 = c00, c11 = c00;
        FloatVector c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        final int s = NR_F / 4;
        int off = bo - s * ao;
        int end = ao + 4 * kc;
        for (int q = ao; q < end; q += 4) {
            FloatVector b0 = FloatVector.fromArray(FS, b, s * q + off);
            FloatVector b1 = FloatVector.fromArray(FS, b, s * q + off + FL);
            FloatVector x = FloatVector.broadcast(FS, a[q]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(FS, a[q + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(FS, a[q + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(FS, a[q + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
        }
        c00.intoArray(t, 0);
        c01.intoArray(t, FL);
        c10.intoArray(t, NR_F);
        c11.intoArray(t, NR_F + FL);
        c20.intoArray(t, 2 * NR_F);
        c21.intoArray(t, 2 * NR_F + FL);
        c30.intoArray(t, 3 * NR_F);
        c31.intoArray(t, 3 * NR_F + FL);
    }

    /**
     * The 6-row tile over one k-block, into the scratch tile t (no vector crosses a call). Two k-steps per iteration,
     * and every index affine in the counted loop's p: C2 then drops the range checks (with loop-carried offsets it
     * kept 12 lea/cmp/jae checks per iteration: 100 instructions per 24 FMAs, now 52 with 512-bit vectors). One step
     * per iteration compiles check-free too but was no faster; with carried offsets it spilled.
     *
     * <p>With 16 registers ({@link #FENCED}: 12 accumulators, 2 B vectors, 1 broadcast) C2 would load all six
     * broadcasts of a k-step before its FMAs and spill an accumulator (a store and reload on its FMA chain every
     * step). A load-load fence after each row stops that: no later load may move above it, so at most one broadcast
     * is live. On x86 the fence is only a barrier to the compiler and emits no instruction: the loop is 24 FMAs, 12
     * broadcasts, 4 B loads and 12 index and loop instructions per two k-steps (52), against 57 per 24 FMAs
     * for the 4-row tile and 63 for the earlier fence (a dead scalar store into t after each row). The fence orders
     * loads only, so the schedule still rests on C2's choices: checked on JDK 25 with benchmarks/asm/kernel_loop.py,
     * f32 and f64 (benchmarks/RESULTS.md); recheck it when the JDK changes. With 32 registers the constant FENCED
     * drops the fences.
     */
    private static void kernelF32(int kc, float[] a, int ao, float[] b, int bo, float[] t) {
        FloatVector c00 = FloatVector.zero(FS), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int p = 0;
        int even = kc & ~1;
        for (; p < even; p += 2) {
            int q = ao + 6 * p;
            int o = bo + NR_F * p;
            {
                FloatVector b0 = FloatVector.fromArray(FS, b, o);
                FloatVector b1 = FloatVector.fromArray(FS, b, o + FL);
                FloatVector x = FloatVector.broadcast(FS, a[q]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 1]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 2]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 3]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 4]);
                c40 = x.fma(b0, c40);
                c41 = x.fma(b1, c41);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 5]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
            }
            {
                FloatVector b0 = FloatVector.fromArray(FS, b, o + NR_F);
                FloatVector b1 = FloatVector.fromArray(FS, b, o + NR_F + FL);
                FloatVector x = FloatVector.broadcast(FS, a[q + 6]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 7]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 8]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 9]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 10]);
                c40 = x.fma(b0, c40);
                c41 = x.fma(b1, c41);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = FloatVector.broadcast(FS, a[q + 11]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
            }
        }
        if (p < kc) {
            int q = ao + 6 * p;
            int o = bo + NR_F * p;
            FloatVector b0 = FloatVector.fromArray(FS, b, o);
            FloatVector b1 = FloatVector.fromArray(FS, b, o + FL);
            FloatVector x = FloatVector.broadcast(FS, a[q]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = FloatVector.broadcast(FS, a[q + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = FloatVector.broadcast(FS, a[q + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = FloatVector.broadcast(FS, a[q + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = FloatVector.broadcast(FS, a[q + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = FloatVector.broadcast(FS, a[q + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
        }
        c00.intoArray(t, 0);
        c01.intoArray(t, FL);
        c10.intoArray(t, NR_F);
        c11.intoArray(t, NR_F + FL);
        c20.intoArray(t, 2 * NR_F);
        c21.intoArray(t, 2 * NR_F + FL);
        c30.intoArray(t, 3 * NR_F);
        c31.intoArray(t, 3 * NR_F + FL);
        c40.intoArray(t, 4 * NR_F);
        c41.intoArray(t, 4 * NR_F + FL);
        c50.intoArray(t, 5 * NR_F);
        c51.intoArray(t, 5 * NR_F + FL);
    }

    /** A full MR x NR tile from the scratch tile into row-contiguous C at byte offset co, vector-wise. */
    private static void storeFullF32(float[] t, MemorySegment c, long co, long rowBytes, float alpha, float beta,
                                     boolean overwrite) {
        // Same arithmetic as storeF32, lane by lane, so that edge and interior tiles round alike.
        if (MR == 6 && !overwrite) {
            // All of the tile's loads of C before its first store: C's rows are often a multiple of 4 KiB apart,
            // and a load behind a store with the same low 12 address bits can wait on it (measured: f32 2048^3, 2
            // threads, +3-5% against the row-by-row loop).
            long h = (long) FL * Float.BYTES;
            long o0 = co + 0 * rowBytes;
            long o1 = co + 1 * rowBytes;
            long o2 = co + 2 * rowBytes;
            long o3 = co + 3 * rowBytes;
            long o4 = co + 4 * rowBytes;
            long o5 = co + 5 * rowBytes;
            FloatVector d00 = FloatVector.fromMemorySegment(FS, c, o0, LE);
            FloatVector d01 = FloatVector.fromMemorySegment(FS, c, o0 + h, LE);
            FloatVector d10 = FloatVector.fromMemorySegment(FS, c, o1, LE);
            FloatVector d11 = FloatVector.fromMemorySegment(FS, c, o1 + h, LE);
            FloatVector d20 = FloatVector.fromMemorySegment(FS, c, o2, LE);
            FloatVector d21 = FloatVector.fromMemorySegment(FS, c, o2 + h, LE);
            FloatVector d30 = FloatVector.fromMemorySegment(FS, c, o3, LE);
            FloatVector d31 = FloatVector.fromMemorySegment(FS, c, o3 + h, LE);
            FloatVector d40 = FloatVector.fromMemorySegment(FS, c, o4, LE);
            FloatVector d41 = FloatVector.fromMemorySegment(FS, c, o4 + h, LE);
            FloatVector d50 = FloatVector.fromMemorySegment(FS, c, o5, LE);
            FloatVector d51 = FloatVector.fromMemorySegment(FS, c, o5 + h, LE);
            FloatVector.fromArray(FS, t, 0).mul(alpha).add(d00.mul(beta)).intoMemorySegment(c, o0, LE);
            FloatVector.fromArray(FS, t, FL).mul(alpha).add(d01.mul(beta)).intoMemorySegment(c, o0 + h, LE);
            FloatVector.fromArray(FS, t, NR_F).mul(alpha).add(d10.mul(beta)).intoMemorySegment(c, o1, LE);
            FloatVector.fromArray(FS, t, NR_F + FL).mul(alpha).add(d11.mul(beta)).intoMemorySegment(c, o1 + h, LE);
            FloatVector.fromArray(FS, t, 2 * NR_F).mul(alpha).add(d20.mul(beta)).intoMemorySegment(c, o2, LE);
            FloatVector.fromArray(FS, t, 2 * NR_F + FL).mul(alpha).add(d21.mul(beta)).intoMemorySegment(c, o2 + h, LE);
            FloatVector.fromArray(FS, t, 3 * NR_F).mul(alpha).add(d30.mul(beta)).intoMemorySegment(c, o3, LE);
            FloatVector.fromArray(FS, t, 3 * NR_F + FL).mul(alpha).add(d31.mul(beta)).intoMemorySegment(c, o3 + h, LE);
            FloatVector.fromArray(FS, t, 4 * NR_F).mul(alpha).add(d40.mul(beta)).intoMemorySegment(c, o4, LE);
            FloatVector.fromArray(FS, t, 4 * NR_F + FL).mul(alpha).add(d41.mul(beta)).intoMemorySegment(c, o4 + h, LE);
            FloatVector.fromArray(FS, t, 5 * NR_F).mul(alpha).add(d50.mul(beta)).intoMemorySegment(c, o5, LE);
            FloatVector.fromArray(FS, t, 5 * NR_F + FL).mul(alpha).add(d51.mul(beta)).intoMemorySegment(c, o5 + h, LE);
            return;
        }
        if (MR == 4 && !overwrite) {
            // The 4-row tile, loads first for the same reason.
            long h = (long) FL * Float.BYTES;
            long o1 = co + rowBytes;
            long o2 = co + 2 * rowBytes;
            long o3 = co + 3 * rowBytes;
            FloatVector d00 = FloatVector.fromMemorySegment(FS, c, co, LE);
            FloatVector d01 = FloatVector.fromMemorySegment(FS, c, co + h, LE);
            FloatVector d10 = FloatVector.fromMemorySegment(FS, c, o1, LE);
            FloatVector d11 = FloatVector.fromMemorySegment(FS, c, o1 + h, LE);
            FloatVector d20 = FloatVector.fromMemorySegment(FS, c, o2, LE);
            FloatVector d21 = FloatVector.fromMemorySegment(FS, c, o2 + h, LE);
            FloatVector d30 = FloatVector.fromMemorySegment(FS, c, o3, LE);
            FloatVector d31 = FloatVector.fromMemorySegment(FS, c, o3 + h, LE);
            FloatVector.fromArray(FS, t, 0).mul(alpha).add(d00.mul(beta)).intoMemorySegment(c, co, LE);
            FloatVector.fromArray(FS, t, FL).mul(alpha).add(d01.mul(beta)).intoMemorySegment(c, co + h, LE);
            FloatVector.fromArray(FS, t, NR_F).mul(alpha).add(d10.mul(beta)).intoMemorySegment(c, o1, LE);
            FloatVector.fromArray(FS, t, NR_F + FL).mul(alpha).add(d11.mul(beta)).intoMemorySegment(c, o1 + h, LE);
            FloatVector.fromArray(FS, t, 2 * NR_F).mul(alpha).add(d20.mul(beta)).intoMemorySegment(c, o2, LE);
            FloatVector.fromArray(FS, t, 2 * NR_F + FL).mul(alpha).add(d21.mul(beta)).intoMemorySegment(c, o2 + h, LE);
            FloatVector.fromArray(FS, t, 3 * NR_F).mul(alpha).add(d30.mul(beta)).intoMemorySegment(c, o3, LE);
            FloatVector.fromArray(FS, t, 3 * NR_F + FL).mul(alpha).add(d31.mul(beta)).intoMemorySegment(c, o3 + h, LE);
            return;
        }
        for (int r = 0; r < MR; r++, co += rowBytes) {
            for (int v = 0; v < NR_F; v += FL) {
                long o = co + (long) v * Float.BYTES;
                FloatVector x = FloatVector.fromArray(FS, t, r * NR_F + v).mul(alpha);
                if (!overwrite) {
                    x = x.add(FloatVector.fromMemorySegment(FS, c, o, LE).mul(beta));
                }
                x.intoMemorySegment(c, o, LE);
            }
        }
    }

    private static void storeF32(float[] t, int mr, int nr, MemorySegment c, long co, long crs, long ccs,
                                 float alpha, float beta, boolean overwrite) {
        for (int r = 0; r < mr; r++) {
            for (int j = 0; j < nr; j++) {
                long o = co + (r * crs + j * ccs) * Float.BYTES;
                float v = alpha * t[r * NR_F + j];
                c.set(F32, o, overwrite ? v : v + beta * c.get(F32, o));
            }
        }
    }

    // ---------------------------------------------------------------- f64

    /** Row-major {@code C = alpha*op(A)*op(B) + beta*C} in double precision; see the class comment. */
    public void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, MemorySegment a, int lda,
                      MemorySegment b, int ldb, double beta, MemorySegment c, int ldc) {
        checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, Double.BYTES);
        if (m == 0 || n == 0) {
            return;
        }
        if (alpha == 0 || k == 0) {
            scaleF64(m, n, beta, c, ldc);
            return;
        }
        long ars = transA ? 1 : lda, acs = transA ? lda : 1;
        long brs = transB ? 1 : ldb, bcs = transB ? ldb : 1;
        if ((long) m * n * k < DIRECT_MAX) {
            directF64(m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, ldc, 1);
        } else if (swap(m, n, NR_D)) {
            // C^T = op(B)^T op(A)^T: pads less when n is narrower than a micro-tile.
            blockedF64(n, m, k, alpha, b, bcs, brs, a, acs, ars, beta, c, 1, ldc);
        } else {
            blockedF64(m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, ldc, 1);
        }
    }

    private static void scaleF64(int m, int n, double beta, MemorySegment c, long ldc) {
        if (beta == 1) {
            return;
        }
        for (int i = 0; i < m; i++) {
            long o = i * ldc * Double.BYTES;
            for (int j = 0; j < n; j++, o += Double.BYTES) {
                c.set(F64, o, beta == 0 ? 0d : beta * c.get(F64, o));
            }
        }
    }

    private static void directF64(int m, int n, int k, double alpha, MemorySegment a, long ars, long acs,
                                  MemorySegment b, long brs, long bcs, double beta, MemorySegment c, long crs,
                                  long ccs) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s = Math.fma(a.get(F64, (i * ars + p * acs) * Double.BYTES),
                            b.get(F64, (p * brs + j * bcs) * Double.BYTES), s);
                }
                long o = (i * crs + j * ccs) * Double.BYTES;
                c.set(F64, o, beta == 0 ? alpha * s : alpha * s + beta * c.get(F64, o));
            }
        }
    }

    private void blockedF64(int m, int n, int k, double alpha, MemorySegment a, long ars, long acs,
                            MemorySegment b, long brs, long bcs, double beta, MemorySegment c, long crs, long ccs) {
        boolean together = pool.canRunTogether();
        int[] grid = grid(m, n, k, MR, NR_D, NC_D, pool.threads(), together);
        int tm = grid[0], tn = grid[1];
        int tilesM = ceilDiv(m, MR), tilesN = ceilDiv(n, NR_D);
        if (together && tn == 1 && tm > 1) {
            sharedBF64(tm, m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, crs, ccs);
            return;
        }
        pool.run(tm * tn, part -> {
            int pi = part / tn, pj = part % tn;
            int i0 = (int) WorkerPool.split(tilesM, tm, pi) * MR;
            int i1 = Math.min(m, (int) WorkerPool.split(tilesM, tm, pi + 1) * MR);
            int j0 = (int) WorkerPool.split(tilesN, tn, pj) * NR_D;
            int j1 = Math.min(n, (int) WorkerPool.split(tilesN, tn, pj + 1) * NR_D);
            if (i0 < i1 && j0 < j1) {
                blockF64(i0, i1, j0, j1, k, alpha, a, ars, acs, b, brs, bcs, beta, c, crs, ccs);
            }
        });
    }

    /**
     * Rows of C split between {@code parts} threads that pack each k x nc panel of B together (each its share of
     * the NR-wide panels) and then all read it: every thread packs 1/parts of B instead of all of it, and the panel
     * sits once in the shared cache. Two barriers per panel: after packing, and before it is overwritten. The
     * arithmetic per element of C is that of {@link #blockF64}, so the bits do not depend on the path.
     */
    private void sharedBF64(int parts, int m, int n, int k, double alpha, MemorySegment a, long ars, long acs,
                            MemorySegment b, long brs, long bcs, double beta, MemorySegment c, long crs, long ccs) {
        int kcMax = Math.min(KC_D, k);
        int need = roundUp(Math.min(NC_D, n), NR_D) * kcMax;
        double[] cached = sharedF64.getAndSet(null);
        double[] pb = cached != null && cached.length >= need ? cached : new double[need];
        int tilesM = ceilDiv(m, MR);
        SpinBarrier barrier = new SpinBarrier(parts);
        try {
            pool.runTogether(parts, barrier, part -> {
                Buffers buf = buffers.get();
                double[] pa = buf.f64A(MC_D * kcMax);
                double[] tmp = buf.f64Tmp(NR_D * kcMax);
                double[] t = buf.f64T;
                int i0 = (int) WorkerPool.split(tilesM, parts, part) * MR;
                int i1 = Math.min(m, (int) WorkerPool.split(tilesM, parts, part + 1) * MR);
                for (int jc = 0; jc < n; jc += NC_D) {
                    int nc = Math.min(NC_D, n - jc);
                    int panels = ceilDiv(nc, NR_D);
                    int q0 = (int) WorkerPool.split(panels, parts, part) * NR_D;
                    int q1 = Math.min(nc, (int) WorkerPool.split(panels, parts, part + 1) * NR_D);
                    for (int pc = 0; pc < k; pc += KC_D) {
                        int kc = Math.min(KC_D, k - pc);
                        boolean first = pc == 0;
                        double bet = first ? beta : 1;
                        boolean overwrite = first && beta == 0;
                        if (q0 < q1) {
                            packBF64(pb, q0 * kc, tmp, b, brs, bcs, pc, kc, jc + q0, q1 - q0);
                        }
                        barrier.await();
                        for (int ic = i0; ic < i1; ic += MC_D) {
                            int mc = Math.min(MC_D, i1 - ic);
                            packAF64(pa, tmp, a, ars, acs, ic, mc, pc, kc);
                            macroF64(ic, mc, jc, nc, kc, pa, pb, t, c, crs, ccs, alpha, bet, overwrite);
                        }
                        barrier.await();
                    }
                }
            });
        } finally {
            sharedF64.set(pb);
        }
    }

    /** The two inner loops over one packed mc x kc block of A and kc x nc panel of B: C tiles at (ic, jc). */
    private static void macroF64(int ic, int mc, int jc, int nc, int kc, double[] pa, double[] pb, double[] t, MemorySegment c,
                                long crs, long ccs, double alpha, double bet, boolean overwrite) {
        for (int jr = 0; jr < nc; jr += NR_D) {
            int nr = Math.min(NR_D, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                long co = ((ic + ir) * crs + (jc + jr) * ccs) * Double.BYTES;
                if (MR == 4) {
                    kernel4F64(kc, pa, ir * kc, pb, jr * kc, t);
                } else {
                    kernelF64(kc, pa, ir * kc, pb, jr * kc, t);
                }
                if (mr == MR && nr == NR_D && ccs == 1) {
                    storeFullF64(t, c, co, crs * Double.BYTES, alpha, bet, overwrite);
                } else {
                    storeF64(t, mr, nr, c, co, crs, ccs, alpha, bet, overwrite);
                }
            }
        }
    }

    /** One thread's share: the GotoBLAS loops over C[i0:i1, j0:j1]; the k-blocking is the same for every share. */
    private void blockF64(int i0, int i1, int j0, int j1, int k, double alpha, MemorySegment a, long ars, long acs,
                          MemorySegment b, long brs, long bcs, double beta, MemorySegment c, long crs, long ccs) {
        Buffers buf = buffers.get();
        int kcMax = Math.min(KC_D, k);
        double[] pa = buf.f64A(MC_D * kcMax);
        double[] pb = buf.f64B(roundUp(Math.min(NC_D, j1 - j0), NR_D) * kcMax);
        double[] t = buf.f64T;
        double[] tmp = buf.f64Tmp(NR_D * kcMax);
        for (int jc = j0; jc < j1; jc += NC_D) {
            int nc = Math.min(NC_D, j1 - jc);
            for (int pc = 0; pc < k; pc += KC_D) {
                int kc = Math.min(KC_D, k - pc);
                boolean first = pc == 0;
                double bet = first ? beta : 1d;
                boolean overwrite = first && beta == 0;
                packBF64(pb, 0, tmp, b, brs, bcs, pc, kc, jc, nc);
                for (int ic = i0; ic < i1; ic += MC_D) {
                    int mc = Math.min(MC_D, i1 - ic);
                    packAF64(pa, tmp, a, ars, acs, ic, mc, pc, kc);
                    macroF64(ic, mc, jc, nc, kc, pa, pb, t, c, crs, ccs, alpha, bet, overwrite);
                }
            }
        }
    }

    /** B[pc:pc+kc, jc:jc+nc] into NR-wide panels, element (p, j) of a panel at p*NR + j; zero padded. */
    private static void packBF64(double[] dst, int dOff, double[] tmp, MemorySegment b, long brs, long bcs, int pc,
                                 int kc, int jc, int nc) {
        int full = nc / NR_D * NR_D;
        if (bcs == 1) {
            // Rows of B are contiguous: vector copies for whole panels.
            for (int jr = 0; jr < full; jr += NR_D) {
                int d = dOff + jr * kc;
                long src = (pc * brs + jc + jr) * Double.BYTES;
                long step = brs * Double.BYTES;
                for (int p = 0; p < kc; p++, src += step, d += NR_D) {
                    DoubleVector.fromMemorySegment(DS, b, src, LE).intoArray(dst, d);
                    DoubleVector.fromMemorySegment(DS, b, src + (long) DL * Double.BYTES, LE).intoArray(dst, d + DL);
                }
            }
            if (full < nc) {
                int nr = nc - full, d = dOff + full * kc;
                for (int p = 0; p < kc; p++) {
                    MemorySegment.copy(b, F64, ((pc + p) * brs + jc + full) * Double.BYTES, dst, d + p * NR_D, nr);
                    Arrays.fill(dst, d + p * NR_D + nr, d + (p + 1) * NR_D, 0d);
                }
            }
        } else {
            // Columns of B are contiguous (transposed B): bulk-copy a panel's columns, then interleave them so
            // that the stores into the panel are sequential.
            for (int jr = 0; jr < nc; jr += NR_D) {
                int nr = Math.min(NR_D, nc - jr);
                if (Transposes.F64_FAST && nr == NR_D && brs == 1) {
                    // Full panel: register-block transposes straight from B, the last k-steps one by one.
                    int steps = kc / Transposes.F64_SIDE * Transposes.F64_SIDE, d = dOff + jr * kc;
                    for (int h = 0; h < NR_D; h += Transposes.F64_SIDE) {
                        long col = ((jc + jr + h) * bcs + pc) * Double.BYTES;
                        for (int p = 0; p < steps; p += Transposes.F64_SIDE) {
                            Transposes.f64(b, col + (long) p * Double.BYTES, bcs * Double.BYTES, dst, d + p * NR_D + h,
                                    NR_D);
                        }
                    }
                    for (int p = steps; p < kc; p++) {
                        for (int j = 0; j < NR_D; j++) {
                            dst[d + p * NR_D + j] = b.get(F64, ((jc + jr + j) * bcs + pc + p) * Double.BYTES);
                        }
                    }
                    continue;
                }
                for (int j = 0; j < nr; j++) {
                    MemorySegment.copy(b, F64, ((jc + jr + j) * bcs + pc * brs) * Double.BYTES, tmp, j * kc, kc);
                }
                Arrays.fill(tmp, nr * kc, NR_D * kc, 0d);
                interleaveF64(tmp, kc, NR_D, dst, dOff + jr * kc);
            }
        }
    }

    /** A[ic:ic+mc, pc:pc+kc] into MR-tall panels, element (r, p) of a panel at p*MR + r; zero padded. */
    private static void packAF64(double[] dst, double[] tmp, MemorySegment a, long ars, long acs, int ic, int mc, int pc,
                                 int kc) {
        if (acs == 1) {
            // Rows of A are contiguous along k: a full 6- or 4-row panel by the vector transpose; otherwise
            // bulk-copy a panel's rows, then interleave them.
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                if (MR == 6 && mr == 6) {
                    if (SCALAR_PANEL6) {
                        panel6F64S(dst, ir * kc, a, ars, ic + ir, pc, kc);
                    } else {
                        panel6F64(dst, ir * kc, a, ars, ic + ir, pc, kc);
                    }
                    continue;
                }
                if (MR == 4 && mr == 4) {
                    panel4F64(dst, ir * kc, a, ars, ic + ir, pc, kc);
                    continue;
                }
                for (int r = 0; r < mr; r++) {
                    MemorySegment.copy(a, F64, ((ic + ir + r) * ars + pc) * Double.BYTES, tmp, r * kc, kc);
                }
                Arrays.fill(tmp, mr * kc, MR * kc, 0d);
                interleaveF64(tmp, kc, MR, dst, ir * kc);
            }
        } else {
            // Transposed A: for each k a panel's MR values are contiguous (ars is 1 whenever acs is not).
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                if (mr == MR && ars == 1) {
                    panelTAF64(dst, ir * kc, a, acs, ic + ir, pc, kc);
                    continue;
                }
                for (int p = 0; p < kc; p++) {
                    for (int r = 0; r < MR; r++) {
                        dst[ir * kc + MR * p + r] =
                                r < mr ? a.get(F64, ((pc + p) * acs + (ic + ir + r) * ars) * Double.BYTES) : 0d;
                    }
                }
            }
        }
    }

    /**
     * Rows ic..ic+5 of A (row stride ars elements), k-steps pc..pc+kc-1, into the 6-tall panel at dst[d]: element
     * (r, p) at d + 6p + r, as {@link #interleaveF64} would place it. Six row vectors of L k-steps become six output
     * vectors, each assembled by three two-vector lane selections (row pairs) and two blends; the k-steps past the
     * last full vector go one by one. With 512-bit vectors (256: {@link #SCALAR_PANEL6}) about 5x faster than
     * copying and interleaving (0.08 against 0.44 ns per element, f32, Zen 5), which was 10% of a 512^3 GEMM on
     * one thread.
     */
    private static void panel6F64(double[] dst, int d, MemorySegment a, long ars, int ic, int pc, int kc) {
        double[] x = A6_IDX_D;
        boolean[] mk = A6_MASK_D;
        final int l = DL;
        DoubleVector i00 = DoubleVector.fromArray(DS, x, 0);
        DoubleVector i01 = DoubleVector.fromArray(DS, x, l);
        DoubleVector i02 = DoubleVector.fromArray(DS, x, 2 * l);
        DoubleVector i10 = DoubleVector.fromArray(DS, x, 3 * l);
        DoubleVector i11 = DoubleVector.fromArray(DS, x, 4 * l);
        DoubleVector i12 = DoubleVector.fromArray(DS, x, 5 * l);
        DoubleVector i20 = DoubleVector.fromArray(DS, x, 6 * l);
        DoubleVector i21 = DoubleVector.fromArray(DS, x, 7 * l);
        DoubleVector i22 = DoubleVector.fromArray(DS, x, 8 * l);
        DoubleVector i30 = DoubleVector.fromArray(DS, x, 9 * l);
        DoubleVector i31 = DoubleVector.fromArray(DS, x, 10 * l);
        DoubleVector i32 = DoubleVector.fromArray(DS, x, 11 * l);
        DoubleVector i40 = DoubleVector.fromArray(DS, x, 12 * l);
        DoubleVector i41 = DoubleVector.fromArray(DS, x, 13 * l);
        DoubleVector i42 = DoubleVector.fromArray(DS, x, 14 * l);
        DoubleVector i50 = DoubleVector.fromArray(DS, x, 15 * l);
        DoubleVector i51 = DoubleVector.fromArray(DS, x, 16 * l);
        DoubleVector i52 = DoubleVector.fromArray(DS, x, 17 * l);
        VectorMask<Double> m01 = VectorMask.fromArray(DS, mk, l), m02 = VectorMask.fromArray(DS, mk, 2 * l);
        VectorMask<Double> m11 = VectorMask.fromArray(DS, mk, 4 * l), m12 = VectorMask.fromArray(DS, mk, 5 * l);
        VectorMask<Double> m21 = VectorMask.fromArray(DS, mk, 7 * l), m22 = VectorMask.fromArray(DS, mk, 8 * l);
        VectorMask<Double> m31 = VectorMask.fromArray(DS, mk, 10 * l), m32 = VectorMask.fromArray(DS, mk, 11 * l);
        VectorMask<Double> m41 = VectorMask.fromArray(DS, mk, 13 * l), m42 = VectorMask.fromArray(DS, mk, 14 * l);
        VectorMask<Double> m51 = VectorMask.fromArray(DS, mk, 16 * l), m52 = VectorMask.fromArray(DS, mk, 17 * l);
        long rs = ars * Double.BYTES;
        long base = (ic * ars + pc) * Double.BYTES;
        int full = kc / l * l;
        for (int p = 0; p < full; p += l) {
            long o = base + (long) p * Double.BYTES;
            DoubleVector r0 = DoubleVector.fromMemorySegment(DS, a, o, LE);
            DoubleVector r1 = DoubleVector.fromMemorySegment(DS, a, o + rs, LE);
            DoubleVector r2 = DoubleVector.fromMemorySegment(DS, a, o + 2 * rs, LE);
            DoubleVector r3 = DoubleVector.fromMemorySegment(DS, a, o + 3 * rs, LE);
            DoubleVector r4 = DoubleVector.fromMemorySegment(DS, a, o + 4 * rs, LE);
            DoubleVector r5 = DoubleVector.fromMemorySegment(DS, a, o + 5 * rs, LE);
            int q = d + 6 * p;
            i00.selectFrom(r0, r1).blend(i01.selectFrom(r2, r3), m01).blend(i02.selectFrom(r4, r5), m02)
                    .intoArray(dst, q);
            i10.selectFrom(r0, r1).blend(i11.selectFrom(r2, r3), m11).blend(i12.selectFrom(r4, r5), m12)
                    .intoArray(dst, q + l);
            i20.selectFrom(r0, r1).blend(i21.selectFrom(r2, r3), m21).blend(i22.selectFrom(r4, r5), m22)
                    .intoArray(dst, q + 2 * l);
            i30.selectFrom(r0, r1).blend(i31.selectFrom(r2, r3), m31).blend(i32.selectFrom(r4, r5), m32)
                    .intoArray(dst, q + 3 * l);
            i40.selectFrom(r0, r1).blend(i41.selectFrom(r2, r3), m41).blend(i42.selectFrom(r4, r5), m42)
                    .intoArray(dst, q + 4 * l);
            i50.selectFrom(r0, r1).blend(i51.selectFrom(r2, r3), m51).blend(i52.selectFrom(r4, r5), m52)
                    .intoArray(dst, q + 5 * l);
        }
        for (int p = full; p < kc; p++) {
            for (int r = 0; r < 6; r++) {
                dst[d + 6 * p + r] = a.get(F64, base + r * rs + (long) p * Double.BYTES);
            }
        }
    }

    /**
     * {@link #panel4F32} in double precision: with 4 lanes a 4 x 4 transpose per four k-steps. The rows are loaded
     * and selected as int vectors (each double a pair of int lanes; bits are only moved) and stored as doubles.
     */
    private static void panel4F64(double[] dst, int d, MemorySegment a, long ars, int ic, int pc, int kc) {
        int[] x = A4_IDX_DI;
        boolean[] mk = A4_MASK_DI;
        final int l = DL, il = 2 * DL;
        IntVector i00 = IntVector.fromArray(IS_D, x, 0);
        IntVector i01 = IntVector.fromArray(IS_D, x, il);
        IntVector i10 = IntVector.fromArray(IS_D, x, 2 * il);
        IntVector i11 = IntVector.fromArray(IS_D, x, 3 * il);
        IntVector i20 = IntVector.fromArray(IS_D, x, 4 * il);
        IntVector i21 = IntVector.fromArray(IS_D, x, 5 * il);
        IntVector i30 = IntVector.fromArray(IS_D, x, 6 * il);
        IntVector i31 = IntVector.fromArray(IS_D, x, 7 * il);
        VectorMask<Integer> m01 = VectorMask.fromArray(IS_D, mk, il), m11 = VectorMask.fromArray(IS_D, mk, 3 * il);
        VectorMask<Integer> m21 = VectorMask.fromArray(IS_D, mk, 5 * il), m31 = VectorMask.fromArray(IS_D, mk, 7 * il);
        long rs = ars * Double.BYTES;
        long base = (ic * ars + pc) * Double.BYTES;
        int full = kc / l * l;
        for (int p = 0; p < full; p += l) {
            long o = base + (long) p * Double.BYTES;
            IntVector r0 = IntVector.fromMemorySegment(IS_D, a, o, LE);
            IntVector r1 = IntVector.fromMemorySegment(IS_D, a, o + rs, LE);
            IntVector r2 = IntVector.fromMemorySegment(IS_D, a, o + 2 * rs, LE);
            IntVector r3 = IntVector.fromMemorySegment(IS_D, a, o + 3 * rs, LE);
            int q = d + 4 * p;
            i00.selectFrom(r0, r1).blend(i01.selectFrom(r2, r3), m01).reinterpretAsDoubles().intoArray(dst, q);
            i10.selectFrom(r0, r1).blend(i11.selectFrom(r2, r3), m11).reinterpretAsDoubles().intoArray(dst, q + l);
            i20.selectFrom(r0, r1).blend(i21.selectFrom(r2, r3), m21).reinterpretAsDoubles().intoArray(dst, q + 2 * l);
            i30.selectFrom(r0, r1).blend(i31.selectFrom(r2, r3), m31).reinterpretAsDoubles().intoArray(dst, q + 3 * l);
        }
        for (int p = full; p < kc; p++) {
            for (int r = 0; r < 4; r++) {
                dst[d + 4 * p + r] = a.get(F64, base + r * rs + (long) p * Double.BYTES);
            }
        }
    }

    /**
     * Rows i..i+MR-1 of a transposed A (element (i, p) at p*acs + i), k-steps pc..pc+kc-1, into the MR-tall panel at
     * dst[d]: one load and store of TA_LANES lanes per k-step. With MR = 6 that is 8 lanes, and the two extra ones land
     * on the next step's slots and are rewritten by it; the last step goes one by one. The loads stay inside A: a
     * vector step's extra lanes reach at most into the next stored row (k-step p+1 <= pc+kc-1), which exists.
     */
    private static void panelTAF64(double[] dst, int d, MemorySegment a, long acs, int i, int pc, int kc) {
        long step = acs * Double.BYTES;
        long o = (pc * acs + i) * Double.BYTES;
        int p = 0;
        if (MR == 6 && TA_LANES_D == 4) {
            // 256-bit vectors: rows 0-3 and rows 2-5 of each k-step (the middle two written twice, same values).
            long h = 2L * Double.BYTES;
            for (; p < kc; p++, o += step) {
                DoubleVector.fromMemorySegment(TA_F64, a, o, LE).intoArray(dst, d + 6 * p);
                DoubleVector.fromMemorySegment(TA_F64, a, o + h, LE).intoArray(dst, d + 6 * p + 2);
            }
            return;
        }
        for (; p < kc - 1; p++, o += step) {
            DoubleVector.fromMemorySegment(TA_F64, a, o, LE).intoArray(dst, d + MR * p);
        }
        for (; p < kc; p++, o += step) {
            for (int r = 0; r < MR; r++) {
                dst[d + MR * p + r] = a.get(F64, o + (long) r * Double.BYTES);
            }
        }
    }

    /** dst[d + p*width + j] = src[j*kc + p]: a width x kc transpose with sequential stores. */
    private static void interleaveF64(double[] src, int kc, int width, double[] dst, int d) {
        for (int p = 0; p < kc; p++) {
            int o = d + p * width;
            for (int j = 0, i = p; j < width; j++, i += kc) {
                dst[o + j] = src[i];
            }
        }
    }

    /** {@link #kernel4F32} in double precision. */
    private static void kernel4F64(int kc, double[] a, int ao, double[] b, int bo, double[] t) {
        DoubleVector c00 = DoubleVector.zero(DS), c01 = c00, c10 = c00, c11 = c00;
        DoubleVector c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        final int s = NR_D / 4;
        int off = bo - s * ao;
        int end = ao + 4 * kc;
        for (int q = ao; q < end; q += 4) {
            DoubleVector b0 = DoubleVector.fromArray(DS, b, s * q + off);
            DoubleVector b1 = DoubleVector.fromArray(DS, b, s * q + off + DL);
            DoubleVector x = DoubleVector.broadcast(DS, a[q]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = DoubleVector.broadcast(DS, a[q + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = DoubleVector.broadcast(DS, a[q + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = DoubleVector.broadcast(DS, a[q + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
        }
        c00.intoArray(t, 0);
        c01.intoArray(t, DL);
        c10.intoArray(t, NR_D);
        c11.intoArray(t, NR_D + DL);
        c20.intoArray(t, 2 * NR_D);
        c21.intoArray(t, 2 * NR_D + DL);
        c30.intoArray(t, 3 * NR_D);
        c31.intoArray(t, 3 * NR_D + DL);
    }

    /** {@link #kernelF32} in double precision. */
    private static void kernelF64(int kc, double[] a, int ao, double[] b, int bo, double[] t) {
        DoubleVector c00 = DoubleVector.zero(DS), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        DoubleVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int p = 0;
        int even = kc & ~1;
        for (; p < even; p += 2) {
            int q = ao + 6 * p;
            int o = bo + NR_D * p;
            {
                DoubleVector b0 = DoubleVector.fromArray(DS, b, o);
                DoubleVector b1 = DoubleVector.fromArray(DS, b, o + DL);
                DoubleVector x = DoubleVector.broadcast(DS, a[q]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 1]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 2]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 3]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 4]);
                c40 = x.fma(b0, c40);
                c41 = x.fma(b1, c41);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 5]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
            }
            {
                DoubleVector b0 = DoubleVector.fromArray(DS, b, o + NR_D);
                DoubleVector b1 = DoubleVector.fromArray(DS, b, o + NR_D + DL);
                DoubleVector x = DoubleVector.broadcast(DS, a[q + 6]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 7]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 8]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 9]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 10]);
                c40 = x.fma(b0, c40);
                c41 = x.fma(b1, c41);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
                x = DoubleVector.broadcast(DS, a[q + 11]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
                if (FENCED) {
                    VarHandle.loadLoadFence();
                }
            }
        }
        if (p < kc) {
            int q = ao + 6 * p;
            int o = bo + NR_D * p;
            DoubleVector b0 = DoubleVector.fromArray(DS, b, o);
            DoubleVector b1 = DoubleVector.fromArray(DS, b, o + DL);
            DoubleVector x = DoubleVector.broadcast(DS, a[q]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = DoubleVector.broadcast(DS, a[q + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = DoubleVector.broadcast(DS, a[q + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = DoubleVector.broadcast(DS, a[q + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = DoubleVector.broadcast(DS, a[q + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
            x = DoubleVector.broadcast(DS, a[q + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            if (FENCED) {
                VarHandle.loadLoadFence();
            }
        }
        c00.intoArray(t, 0);
        c01.intoArray(t, DL);
        c10.intoArray(t, NR_D);
        c11.intoArray(t, NR_D + DL);
        c20.intoArray(t, 2 * NR_D);
        c21.intoArray(t, 2 * NR_D + DL);
        c30.intoArray(t, 3 * NR_D);
        c31.intoArray(t, 3 * NR_D + DL);
        c40.intoArray(t, 4 * NR_D);
        c41.intoArray(t, 4 * NR_D + DL);
        c50.intoArray(t, 5 * NR_D);
        c51.intoArray(t, 5 * NR_D + DL);
    }

    /** A full MR x NR tile from the scratch tile into row-contiguous C at byte offset co, vector-wise. */
    private static void storeFullF64(double[] t, MemorySegment c, long co, long rowBytes, double alpha,
                                     double beta, boolean overwrite) {
        // Same arithmetic as storeF64, lane by lane, so that edge and interior tiles round alike.
        if (MR == 6 && !overwrite) {
            // All of the tile's loads of C before its first store: C's rows are often a multiple of 4 KiB apart,
            // and a load behind a store with the same low 12 address bits can wait on it (measured: f64 2048^3, 2
            // threads, +8% against the row-by-row loop).
            long h = (long) DL * Double.BYTES;
            long o0 = co + 0 * rowBytes;
            long o1 = co + 1 * rowBytes;
            long o2 = co + 2 * rowBytes;
            long o3 = co + 3 * rowBytes;
            long o4 = co + 4 * rowBytes;
            long o5 = co + 5 * rowBytes;
            DoubleVector d00 = DoubleVector.fromMemorySegment(DS, c, o0, LE);
            DoubleVector d01 = DoubleVector.fromMemorySegment(DS, c, o0 + h, LE);
            DoubleVector d10 = DoubleVector.fromMemorySegment(DS, c, o1, LE);
            DoubleVector d11 = DoubleVector.fromMemorySegment(DS, c, o1 + h, LE);
            DoubleVector d20 = DoubleVector.fromMemorySegment(DS, c, o2, LE);
            DoubleVector d21 = DoubleVector.fromMemorySegment(DS, c, o2 + h, LE);
            DoubleVector d30 = DoubleVector.fromMemorySegment(DS, c, o3, LE);
            DoubleVector d31 = DoubleVector.fromMemorySegment(DS, c, o3 + h, LE);
            DoubleVector d40 = DoubleVector.fromMemorySegment(DS, c, o4, LE);
            DoubleVector d41 = DoubleVector.fromMemorySegment(DS, c, o4 + h, LE);
            DoubleVector d50 = DoubleVector.fromMemorySegment(DS, c, o5, LE);
            DoubleVector d51 = DoubleVector.fromMemorySegment(DS, c, o5 + h, LE);
            DoubleVector.fromArray(DS, t, 0).mul(alpha).add(d00.mul(beta)).intoMemorySegment(c, o0, LE);
            DoubleVector.fromArray(DS, t, DL).mul(alpha).add(d01.mul(beta)).intoMemorySegment(c, o0 + h, LE);
            DoubleVector.fromArray(DS, t, NR_D).mul(alpha).add(d10.mul(beta)).intoMemorySegment(c, o1, LE);
            DoubleVector.fromArray(DS, t, NR_D + DL).mul(alpha).add(d11.mul(beta)).intoMemorySegment(c, o1 + h, LE);
            DoubleVector.fromArray(DS, t, 2 * NR_D).mul(alpha).add(d20.mul(beta)).intoMemorySegment(c, o2, LE);
            DoubleVector.fromArray(DS, t, 2 * NR_D + DL).mul(alpha).add(d21.mul(beta)).intoMemorySegment(c, o2 + h, LE);
            DoubleVector.fromArray(DS, t, 3 * NR_D).mul(alpha).add(d30.mul(beta)).intoMemorySegment(c, o3, LE);
            DoubleVector.fromArray(DS, t, 3 * NR_D + DL).mul(alpha).add(d31.mul(beta)).intoMemorySegment(c, o3 + h, LE);
            DoubleVector.fromArray(DS, t, 4 * NR_D).mul(alpha).add(d40.mul(beta)).intoMemorySegment(c, o4, LE);
            DoubleVector.fromArray(DS, t, 4 * NR_D + DL).mul(alpha).add(d41.mul(beta)).intoMemorySegment(c, o4 + h, LE);
            DoubleVector.fromArray(DS, t, 5 * NR_D).mul(alpha).add(d50.mul(beta)).intoMemorySegment(c, o5, LE);
            DoubleVector.fromArray(DS, t, 5 * NR_D + DL).mul(alpha).add(d51.mul(beta)).intoMemorySegment(c, o5 + h, LE);
            return;
        }
        if (MR == 4 && !overwrite) {
            // The 4-row tile, loads first for the same reason.
            long h = (long) DL * Double.BYTES;
            long o1 = co + rowBytes;
            long o2 = co + 2 * rowBytes;
            long o3 = co + 3 * rowBytes;
            DoubleVector d00 = DoubleVector.fromMemorySegment(DS, c, co, LE);
            DoubleVector d01 = DoubleVector.fromMemorySegment(DS, c, co + h, LE);
            DoubleVector d10 = DoubleVector.fromMemorySegment(DS, c, o1, LE);
            DoubleVector d11 = DoubleVector.fromMemorySegment(DS, c, o1 + h, LE);
            DoubleVector d20 = DoubleVector.fromMemorySegment(DS, c, o2, LE);
            DoubleVector d21 = DoubleVector.fromMemorySegment(DS, c, o2 + h, LE);
            DoubleVector d30 = DoubleVector.fromMemorySegment(DS, c, o3, LE);
            DoubleVector d31 = DoubleVector.fromMemorySegment(DS, c, o3 + h, LE);
            DoubleVector.fromArray(DS, t, 0).mul(alpha).add(d00.mul(beta)).intoMemorySegment(c, co, LE);
            DoubleVector.fromArray(DS, t, DL).mul(alpha).add(d01.mul(beta)).intoMemorySegment(c, co + h, LE);
            DoubleVector.fromArray(DS, t, NR_D).mul(alpha).add(d10.mul(beta)).intoMemorySegment(c, o1, LE);
            DoubleVector.fromArray(DS, t, NR_D + DL).mul(alpha).add(d11.mul(beta)).intoMemorySegment(c, o1 + h, LE);
            DoubleVector.fromArray(DS, t, 2 * NR_D).mul(alpha).add(d20.mul(beta)).intoMemorySegment(c, o2, LE);
            DoubleVector.fromArray(DS, t, 2 * NR_D + DL).mul(alpha).add(d21.mul(beta)).intoMemorySegment(c, o2 + h, LE);
            DoubleVector.fromArray(DS, t, 3 * NR_D).mul(alpha).add(d30.mul(beta)).intoMemorySegment(c, o3, LE);
            DoubleVector.fromArray(DS, t, 3 * NR_D + DL).mul(alpha).add(d31.mul(beta)).intoMemorySegment(c, o3 + h, LE);
            return;
        }
        for (int r = 0; r < MR; r++, co += rowBytes) {
            for (int v = 0; v < NR_D; v += DL) {
                long o = co + (long) v * Double.BYTES;
                DoubleVector x = DoubleVector.fromArray(DS, t, r * NR_D + v).mul(alpha);
                if (!overwrite) {
                    x = x.add(DoubleVector.fromMemorySegment(DS, c, o, LE).mul(beta));
                }
                x.intoMemorySegment(c, o, LE);
            }
        }
    }

    private static void storeF64(double[] t, int mr, int nr, MemorySegment c, long co, long crs, long ccs,
                                 double alpha, double beta, boolean overwrite) {
        for (int r = 0; r < mr; r++) {
            for (int j = 0; j < nr; j++) {
                long o = co + (r * crs + j * ccs) * Double.BYTES;
                double v = alpha * t[r * NR_D + j];
                c.set(F64, o, overwrite ? v : v + beta * c.get(F64, o));
            }
        }
    }
}
