package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import io.hvp4j.random.Rng;
import java.util.SplittableRandom;

/**
 * Numerical rank of a {@link SymmetricOperator} without its {@code n × n} matrix: an adaptive, randomly restarted
 * block Krylov range finder whose projected matrix {@code T = QᵀAQ} is accumulated during orthogonalization, counting
 * with the same tolerance convention as the dense path.
 *
 * <p><b>Algorithm</b> (all in f64).
 * <ol>
 *   <li>A lower bound {@code σ̂ ≤ σ_max} from a few power iterations (‖Av‖/‖v‖ never exceeds σ_max; every later
 *   product of a unit vector raises it), and the estimated threshold {@code τ̂ = tolerance.threshold(σ̂, n, n) ≤ τ}.</li>
 *   <li>A candidate block {@code W}: at the start and after every restart {@code A·Ω} for seeded Gaussian Ω (a
 *   sample of the range), otherwise {@code Z = A·Q_j} of the block appended last (the Krylov expansion). {@code W}
 *   is projected off the basis Q by block classical Gram–Schmidt with GEMMs (a second pass unless every column kept
 *   at least 1/√2 of its norm, Kahan–Parlett), orthonormalized inside the block by modified Gram–Schmidt
 *   twice, and its columns whose remaining norm exceeds {@code f(b)}·τ̂ are appended ({@link #stopFraction}).</li>
 *   <li>Each appended block {@code Q_j} gets exactly one product {@code Z = A·Q_j}; the first Gram–Schmidt
 *   coefficients {@code QᵀZ} are column block j of {@code T}, so the Rayleigh–Ritz matrix costs no extra products
 *   and no extra GEMMs (a separate {@code QᵀAQ} would cost m products and n·m² flops).</li>
 *   <li>A Krylov candidate with no column left above {@code f(b)}·τ̂ means the basis is (numerically) invariant;
 *   the method then restarts with a fresh random sample. It stops at the first random sample whose every projected
 *   column is that small (that block is discarded), or when Q spans {@code R^n}. A missing eigen-direction with
 *   {@code |λ| > τ} would leave {@code |λ|·|g|} in each column, g standard normal, so the chance that all b columns
 *   fall below {@code f·τ} is {@code P(|g| < f)^b}; {@code f(b)} is the largest of 1, 1/2, 1/4, 1/10, 1/20 that
 *   keeps this below 10⁻⁹ (1 for b = 64, 1/2 for 32, 1/4 for 16). A large f keeps the test above the rounding noise
 *   of the products (about the dense path's eigenvalue noise, ε·‖|A|·|ω|‖), so that noise is not mistaken for
 *   range. The restarts also recover eigenvalues of multiplicity above b, which a Krylov space of block size b cannot hold.</li>
 *   <li>The eigenvalues of T by the given {@link SymmetricEigen}, and the rank by
 *   {@link NumericalRank#ofSingularValues} with the operator's n (not m) in the default tolerance, so that τ is
 *   σ_max·n·ε exactly as in the dense path. By Cauchy interlacing the eigenvalues of T never exceed those of A in
 *   magnitude order, and when Q contains the range of A to working precision they are A's nonzero eigenvalues.</li>
 * </ol>
 *
 * <p>Cost: about {@code m + b·(restarts + 1)} product columns and {@code 2·n·m²} flops of GEMM per Gram–Schmidt pass
 * (up to two passes), m the final basis size. Memory: the basis {@code m × n} f64 off-heap (in panels of
 * {@value #PANEL_ROWS} vectors), the upper triangle of T on the heap and T itself ({@code m × m}) off-heap for the
 * eigenvalues. Deterministic for a fixed seed, operator and backend thread count. Not thread-safe (one call at a
 * time per operator).
 */
public final class RandomizedRank {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RandomizedRank.class);
    /** Columns per block unless the options say otherwise (capped by the operator's block limit). */
    public static final int DEFAULT_BLOCK = 128;
    /** Largest chance allowed that a block of b Gaussian samples misses an eigenvalue above the tolerance. */
    static final double MISS_PROBABILITY = 1e-9;

    /**
     * The fraction f of τ̂ below which a projected column counts as empty, for blocks of b columns: the largest of
     * 1, 1/2, 1/4, 1/10, 1/20 with {@code P(|g| < f)^b ≤ 10⁻⁹} (g standard normal), or 1/20.
     *
     * @param b columns per block
     * @return f
     */
    public static double stopFraction(int b) {
        double[] f = {1.0, 0.5, 0.25, 0.1, 0.05};
        double[] p = {0.6826894921370859, 0.38292492254802624, 0.19741265136584765, 0.07965567455405798,
            0.03987761167674492}; // P(|g| < f) = erf(f/√2)
        for (int i = 0; i < f.length; i++) {
            if (b * Math.log(p[i]) <= Math.log(MISS_PROBABILITY)) {
                return f[i];
            }
        }
        return f[f.length - 1];
    }
    /** Power iterations for the lower bound on σ_max. */
    public static final int POWER_ITERATIONS = 30;
    /** Multiple of ε·√(m+1)·‖Z‖ below which a projected column is rounding noise. */
    static final double NOISE = 8;

    /** Basis vectors per off-heap panel. */
    static final int PANEL_ROWS = 512;

    static boolean DEBUG = Boolean.getBoolean("hvp4j.debug");

    private RandomizedRank() {
    }

    /**
     * The f64 matrix product the basis work runs on, with {@link Backend#gemm}'s meaning:
     * {@code C = alpha·op(A)·op(B) + beta·C} on row-major tensors. {@code backend::gemm} by default; a system BLAS
     * may be plugged in (see {@link #nativeGemm}).
     */
    @FunctionalInterface
    public interface Gemm {
        /**
         * {@code C = alpha·op(A)·op(B) + beta·C}.
         *
         * @param transA whether {@code op(A) = Aᵀ}
         * @param transB whether {@code op(B) = Bᵀ}
         * @param alpha  the product's factor
         * @param a      A
         * @param b      B
         * @param beta   C's factor
         * @param c      C, overwritten
         */
        void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c);
    }

    /**
     * The system OpenBLAS's {@code cblas_dgemm} through FFM as a {@link Gemm}, with {@code threads} OpenBLAS
     * threads, or empty when no OpenBLAS is installed (see {@link io.hvp4j.backend.OpenBlas}).
     *
     * @param threads OpenBLAS threads
     * @return the GEMM, or empty
     */
    public static java.util.Optional<Gemm> nativeGemm(int threads) {
        return io.hvp4j.backend.OpenBlas.get().map(ob -> {
            ob.setThreads(threads);
            return ob::gemm;
        });
    }

    /**
     * An orthonormal basis kept from one run to start the next on another operator over the same parameter space
     * (e.g. H_F after H: range(H_F) ⊆ range(H) + range(H_O)). Off-heap, owned by this object: close it when done;
     * a run started from it extends it in place. Not thread-safe.
     */
    public static final class Basis implements AutoCloseable {
        final Arena arena = Arena.ofShared();
        final int n;
        final List<Tensor> panels = new ArrayList<>();
        int m;

        Basis(int n) {
            this.n = n;
        }

        /**
         * The basis's size.
         *
         * @return m, the vectors in the basis
         */
        public int size() {
            return m;
        }

        /**
         * The vectors' dimension.
         *
         * @return n
         */
        public int dimension() {
            return n;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /**
     * Tells an {@link io.hvp4j.Progress} the stage ({@code power}, {@code start basis}, {@code basis},
     * {@code eigenvalues}) when it changes, then the work done in it and the total known so far.
     */
    static final class Stages {
        private final io.hvp4j.Progress progress;
        private String stage;

        Stages(io.hvp4j.Progress progress) {
            this.progress = progress;
        }

        void update(String s, int done, int total) {
            if (!s.equals(stage)) {
                stage = s;
                progress.stage(s);
            }
            progress.update(done, total);
        }
    }

    /** Options (mutable builder). */
    public static final class Options {
        int block = DEFAULT_BLOCK;
        long seed = 1;
        NumericalRank.Tolerance tolerance = NumericalRank.Tolerance.DEFAULT;
        SymmetricEigen solver;
        Stages progress;
        int maxBasis = Integer.MAX_VALUE;
        Gemm gemm;
        Basis start;
        boolean keep;
        java.nio.file.Path checkpoint;
        long checkpointNanos;
        String fingerprint = "";

        /** Options with every default. */
        public Options() {
        }

        /**
         * Save the whole state to {@code file} (atomically: temporary file, fsync, rename) at the start of a step
         * when {@code everySeconds} have passed since the last save; a run with the same arguments resumes from
         * it and gives the same bits as an uninterrupted run. {@code fingerprint} must describe everything that
         * defines the operator (model, weights, data, loss); with the options, the dimension, the products' dtype,
         * the GEMM and the start basis's checksum it is stored and compared, and a checkpoint of other arguments is
         * refused. The file holds the basis (m·n·8 bytes).
         *
         * @param file         the checkpoint file
         * @param everySeconds the interval, at least 0
         * @param fingerprint  describes the operator (null: empty)
         * @return these options
         */
        public Options checkpoint(java.nio.file.Path file, double everySeconds, String fingerprint) {
            if (!(everySeconds >= 0)) {
                throw new IllegalArgumentException("checkpoint interval must be >= 0, got " + everySeconds);
            }
            checkpoint = file;
            checkpointNanos = (long) (everySeconds * 1e9);
            this.fingerprint = fingerprint == null ? "" : fingerprint;
            return this;
        }

        /**
         * Start from {@code basis} (built on another operator of the same dimension): its vectors are kept, T is
         * computed on them with one product per vector and n·m² flops (no Gram–Schmidt), and the usual random tests
         * and Krylov steps extend it where the new operator's range leaves it. The basis is extended in place and
         * returned in {@link Result#kept()}; the caller still owns and closes it.
         *
         * @param basis the start basis, or null
         * @return these options
         */
        public Options start(Basis basis) {
            start = basis;
            return this;
        }

        /**
         * Return the basis in {@link Result#kept()} (the caller closes it) instead of freeing it.
         *
         * @param k whether to keep it
         * @return these options
         */
        public Options keepBasis(boolean k) {
            keep = k;
            return this;
        }

        /**
         * The matrix product for the basis work.
         *
         * @param g the GEMM, or null for the backend's
         * @return these options
         */
        public Options gemm(Gemm g) {
            gemm = g;
            return this;
        }

        /**
         * Columns per block (capped by n and by the operator's maximum block).
         *
         * @param b at least 1
         * @return these options
         */
        public Options block(int b) {
            if (b < 1) {
                throw new IllegalArgumentException("block size must be positive, got " + b);
            }
            block = b;
            return this;
        }

        /**
         * The random samples' seed; default 1.
         *
         * @param s the seed
         * @return these options
         */
        public Options seed(long s) {
            seed = s;
            return this;
        }

        /**
         * The rank's tolerance; default numpy's.
         *
         * @param t the tolerance, or null for the default
         * @return these options
         */
        public Options tolerance(NumericalRank.Tolerance t) {
            tolerance = t == null ? NumericalRank.Tolerance.DEFAULT : t;
            return this;
        }

        /**
         * Eigensolver for the projected matrix.
         *
         * @param s the solver, or null for {@code SymmetricEigen.select(null)}
         * @return these options
         */
        public Options solver(SymmetricEigen s) {
            solver = s;
            return this;
        }

        /**
         * Told each stage as it begins, then the work done in it (the basis: vectors out of n, an upper bound).
         *
         * @param p the progress sink, or null
         * @return these options
         */
        public Options progress(io.hvp4j.Progress p) {
            progress = p == null ? null : new Stages(p);
            return this;
        }

        /**
         * Refuse (InvalidInputException) to grow the basis beyond this many vectors (memory guard).
         *
         * @param m at least 1
         * @return these options
         */
        public Options maxBasis(int m) {
            if (m < 1) {
                throw new IllegalArgumentException("maxBasis must be positive, got " + m);
            }
            maxBasis = m;
            return this;
        }
    }

    /**
     * The result.
     *
     * @param report        rank, tolerance, ladder and gap (rows = cols = n; the singular values are those of T)
     * @param eigenvalues   eigenvalues of {@code T = QᵀAQ}, ascending (m of them)
     * @param basis         m, the dimension of the basis Q
     * @param sigmaEstimate the lower bound σ̂ used by the stopping rule
     * @param stopResidual  largest projected column norm of the discarded last sample (NaN when Q spans R^n)
     * @param productColumns columns of operator products computed
     * @param restarts      random samples drawn after the first (Krylov space numerically invariant)
     * @param seconds       wall time
     * @param kept          the basis when {@link Options#keepBasis} or {@link Options#start} asked for it, else null
     */
    public record Result(RankReport report, double[] eigenvalues, int basis, double sigmaEstimate,
                         double stopResidual, long productColumns, int restarts, double seconds, Basis kept) {
    }

    /**
     * The method's memory (basis, T and its triangle).
     *
     * @param n the dimension
     * @param m the basis size
     * @return bytes
     */
    public static long estimateBytes(int n, int m) {
        long panels = ((long) m + PANEL_ROWS - 1) / PANEL_ROWS * PANEL_ROWS;
        return panels * n * 8L + (long) m * m * 8L * 3 / 2 + 6L * n * DEFAULT_BLOCK * 8L;
    }

    /**
     * The randomized rank with default options.
     *
     * @param op      the operator
     * @param backend runs the GEMMs (f64)
     * @return the rank
     */
    public static Result compute(SymmetricOperator op, Backend backend) {
        return compute(op, backend, new Options());
    }

    /**
     * The randomized rank.
     *
     * @param op      the operator
     * @param backend runs the GEMMs (f64)
     * @param options block, seed, tolerance, checkpoint, start basis
     * @return the rank
     */
    public static Result compute(SymmetricOperator op, Backend backend, Options options) {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(backend, "backend");
        long t0 = System.nanoTime();
        int n = op.dimension();
        SymmetricEigen solver = options.solver != null ? options.solver : SymmetricEigen.select(null);
        if (n < 1) {
            RankReport r = NumericalRank.ofSingularValues(new double[0], 0, 0, op.dtype(), options.tolerance);
            return new Result(r, new double[0], 0, 0, Double.NaN, 0, 0, 0, null);
        }
        int b = Math.max(1, Math.min(Math.min(options.block, n), Math.min(op.maxBlock(), 1024)));
        if (options.start != null && options.start.n != n) {
            throw new IllegalArgumentException("the start basis has dimension " + options.start.n + ", the operator "
                    + n);
        }
        Basis basis = options.start != null ? options.start : new Basis(n);
        boolean handBack = options.start != null || options.keep;
        boolean done = false;
        try (Arena arena = Arena.ofShared()) {
            Work w = new Work(op, options.gemm != null ? options.gemm : backend::gemm, arena, basis, b);
            w.gemmName = options.gemm != null ? "custom gemm" : "backend gemm " + backend.getClass().getName();
            String fp = options.checkpoint == null ? null : fingerprint(op, options, b, basis, w.gemmName);
            RandomizedRankCheckpoint st = options.checkpoint == null ? null : RandomizedRankCheckpoint.read(options.checkpoint, fp, w);
            double sigmaHat;
            int restarts;
            int bb;
            double[] res;
            boolean fromRandom;
            if (st != null) {
                LOG.info("resuming {}: a basis of {} vectors from checkpoint {}", op.description(), w.m,
                        options.checkpoint);
                sigmaHat = st.sigmaHat();
                restarts = st.restarts();
                bb = st.bb();
                res = st.res();
                fromRandom = st.fromRandom();
            } else {
                sigmaHat = w.powerBound(new SplittableRandom(options.seed), options.progress);
                sigmaHat = Math.max(sigmaHat, w.warm(options.progress));
                restarts = 0;
                bb = Math.min(b, n);
                res = w.sample(options.seed, bb);
                sigmaHat = Math.max(sigmaHat, w.lastSigma);
                fromRandom = true;
            }
            double stopResidual = Double.NaN;
            long lastSave = System.nanoTime();
            long interval = options.checkpointNanos;
            while (true) {
                if (options.checkpoint != null && System.nanoTime() - lastSave >= interval) {
                    long t = System.nanoTime();
                    RandomizedRankCheckpoint.write(options.checkpoint, fp, w, sigmaHat, restarts, bb, res, fromRandom);
                    lastSave = System.nanoTime();
                    LOG.debug("checkpoint {}: a basis of {} vectors ({} s to write)", options.checkpoint, w.m,
                            String.format(java.util.Locale.ROOT, "%.2f", (lastSave - t) / 1e9));
                    // A large basis takes seconds to write: keep the writes to at most a fifth of the run.
                    interval = Math.max(options.checkpointNanos, 4 * (lastSave - t));
                }
                double tauHat = options.tolerance.threshold(sigmaHat, n, n, op.dtype());
                double cut = stopFraction(b) * tauHat;
                double maxRes = 0;
                for (int j = 0; j < bb; j++) {
                    maxRes = Math.max(maxRes, res[j]);
                }
                int kept = w.orthonormalizeAndAppend(bb, res, cut, options.maxBasis);
                if (DEBUG) System.err.printf("m=%d bb=%d kept=%d random=%b maxRes=%.3e cut=%.3e sigma=%.3e%n", w.m, bb, kept, fromRandom, maxRes, cut, sigmaHat);
                if (kept == 0) {
                    if (fromRandom) {
                        stopResidual = maxRes;
                        if (options.checkpoint != null) {
                            // The finished basis, so that a later operator started from it can resume too.
                            RandomizedRankCheckpoint.write(options.checkpoint, fp, w, sigmaHat, restarts, bb, res, fromRandom);
                        }
                        break;
                    }
                    // The Krylov space is numerically invariant: restart from a fresh sample of the range.
                    restarts++;
                    bb = Math.min(b, n - w.m);
                    res = w.sample(options.seed, bb);
                    sigmaHat = Math.max(sigmaHat, w.lastSigma);
                    fromRandom = true;
                    continue;
                }
                if (options.progress != null) {
                    options.progress.update("basis", w.m, n);
                }
                if (w.m >= n) {
                    break;
                }
                int next = Math.min(kept, n - w.m);
                res = w.expand(kept, next);
                sigmaHat = Math.max(sigmaHat, w.lastSigma);
                bb = next;
                fromRandom = false;
            }
            int m = w.m;
            double[] eig;
            if (m == 0) {
                eig = new double[0];
            } else {
                Tensor t = w.projectedMatrix();
                if (options.progress != null) {
                    options.progress.update("eigenvalues", 0, m);
                }
                eig = solver.decomposeInPlace(t, false);
            }
            double[] s = new double[eig.length];
            for (int i = 0; i < s.length; i++) {
                s[i] = Math.abs(eig[i]);
            }
            RankReport report = NumericalRank.ofSingularValues(s, n, n, op.dtype(), options.tolerance);
            if (options.progress != null) {
                options.progress.update("eigenvalues", m, m);
            }
            Result out = new Result(report, eig, m, sigmaHat, stopResidual, w.productColumns, restarts,
                    (System.nanoTime() - t0) / 1e9, handBack ? basis : null);
            done = true;
            return out;
        } finally {
            // A basis this call created is freed unless it is handed back; a start basis stays the caller's.
            if (options.start == null && !(done && options.keep)) {
                basis.close();
            }
        }
    }

    /** Everything a checkpoint must match: the caller's description of the operator, the options, the start basis. */
    private static String fingerprint(SymmetricOperator op, Options o, int b, Basis basis, String gemm) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        for (int j = 0; j < basis.m; j++) {
            crc.update(basis.panels.get(j / PANEL_ROWS).segment()
                    .asSlice((long) (j % PANEL_ROWS) * basis.n * 8, (long) basis.n * 8).asByteBuffer());
        }
        return String.join("|", "hvp4j randomized rank v2", o.fingerprint, op.description(), "n=" + op.dimension(),
                "dtype=" + op.dtype(), "block=" + b, "seed=" + o.seed, "tol=" + o.tolerance.spec(), gemm,
                "start=" + basis.m + ":" + Long.toHexString(crc.getValue()));
    }

    /** The working state: basis panels, candidate block, the upper triangle of T. */
    static final class Work {
        final SymmetricOperator op;
        final Gemm be;
        final Arena arena;
        final Basis basis;
        final int n;
        final int b;
        final int kMax;
        final List<Tensor> panels;
        final Tensor coef;
        final Tensor omega;
        final Tensor w;
        final Tensor z;
        final double[][] rows;
        /** Column blocks of T: block j holds rows 0..end_j of columns start_j..end_j, row-major (rows × width). */
        final List<double[]> tBlocks = new ArrayList<>();
        final List<int[]> tShape = new ArrayList<>();
        int m;
        long productColumns;
        double lastSigma;
        /** Width of the block expanded before the last one (0 after a restart: no recurrence to use). */
        int prevWidth;
        /** Random samples drawn so far. */
        long samples;
        String gemmName = "";
        /**
         * Per candidate column, the rounding level of its projection ({@value #NOISE}·ε·√(m+1)·‖Z_c‖, ε of the
         * products' dtype): a remainder below it is noise whose direction is not orthogonal to Q, so it is never
         * appended, whatever the tolerance.
         */
        final double[] floor;
        /**
         * A second Gram–Schmidt pass when a column kept less than this fraction of its norm (Kahan–Parlett's 1/√2).
         * Relaxing it to the ε/ratio estimate of one pass (e.g. 100/n) lost orthogonality in long Krylov runs:
         * rounding of the m-term products accumulates, and a basis off by more than the tolerance inflates the rank.
         */
        final double reorth = 0.7071067811865476;

        Work(SymmetricOperator op, Gemm be, Arena arena, Basis basis, int b) {
            this.op = op;
            this.be = be;
            this.arena = arena;
            this.basis = basis;
            this.panels = basis.panels;
            this.m = basis.m;
            this.n = basis.n;
            this.b = b;
            this.kMax = Math.max(1, Math.min(op.maxBlock(), b));
            omega = Tensor.allocate(arena, DType.F64, n, b);
            w = Tensor.allocate(arena, DType.F64, n, b);
            z = Tensor.allocate(arena, DType.F64, n, b);
            coef = Tensor.allocate(arena, DType.F64, PANEL_ROWS, b);
            rows = new double[b][];
            floor = new double[b];
        }

        void setFloor(double[] norms, int k) {
            double eps = Math.ulp(1.0) / 2 * (op.dtype() == DType.F32 ? (1 << 29) : 1);
            for (int c = 0; c < k; c++) {
                floor[c] = NOISE * eps * Math.sqrt(m + 1.0) * norms[c];
            }
        }

        /** {@code out = A·in} for {@code n × k} tensors with {@code k ≤ b} (blocks are at most the op's maximum). */
        void applyOp(Tensor in, Tensor out) {
            op.apply(in, out);
            productColumns += in.cols();
        }

        double powerBound(SplittableRandom rng, Stages progress) {
            int k = Math.min(Math.min(4, kMax), n);
            Tensor v = Tensor.allocate(arena, DType.F64, n, k);
            Tensor av = Tensor.allocate(arena, DType.F64, n, k);
            for (long i = 0; i < v.size(); i++) {
                v.set(i, Rng.gaussian(rng));
            }
            double best = 0;
            for (int it = 0; it < POWER_ITERATIONS; it++) {
                applyOp(v, av);
                double[] nv = columnNorms(v, k);
                double[] na = columnNorms(av, k);
                for (int c = 0; c < k; c++) {
                    if (nv[c] > 0) {
                        best = Math.max(best, na[c] / nv[c]);
                    }
                }
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < k; c++) {
                        double x = av.get(i, c);
                        v.set(i, c, na[c] > 0 ? x / na[c] : 0);
                    }
                }
                if (progress != null) {
                    progress.update("power", it + 1, POWER_ITERATIONS);
                }
                boolean allZero = true;
                for (double x : na) {
                    allZero &= x == 0;
                }
                if (allZero) {
                    break;
                }
            }
            return best;
        }

        /**
         * T on the vectors of a start basis: for each block of b of them, Z = A·Q_j and the rows 0..end_j of
         * {@code QᵀZ} (the upper triangle; no Gram–Schmidt: the vectors are orthonormal already). Returns the largest
         * ‖A·q‖ (a lower bound on σ_max).
         */
        double warm(Stages progress) {
            int total = m;
            double best = 0;
            for (int start = 0; start < total; start += b) {
                int width = Math.min(b, total - start);
                int end = start + width;
                Tensor zz = z.view(0, n, width);
                MemorySegment zs = zz.segment();
                for (int c = 0; c < width; c++) {
                    MemorySegment row = basisRow(start + c).segment();
                    for (int i = 0; i < n; i++) {
                        zs.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * width + c,
                                row.getAtIndex(ValueLayout.JAVA_DOUBLE, i));
                    }
                }
                Tensor ww = w.view(0, n, width);
                applyOp(zz, ww);
                for (double x : columnNorms(ww, width)) {
                    best = Math.max(best, x);
                }
                double[] tb = new double[end * width];
                for (int p = 0; p * PANEL_ROWS < end; p++) {
                    int u = Math.min(PANEL_ROWS, end - p * PANEL_ROWS);
                    Tensor q = panels.get(p).view(0, u, n);
                    Tensor cv = coef.view(0, u, width);
                    be.gemm(false, false, 1.0, q, ww, 0.0, cv);
                    MemorySegment.copy(cv.segment(), ValueLayout.JAVA_DOUBLE, 0, tb, p * PANEL_ROWS * width,
                            u * width);
                }
                tBlocks.add(tb);
                tShape.add(new int[] {start, width});
                if (progress != null) {
                    progress.update("start basis", end, total);
                }
            }
            return best;
        }

        /** W = A·Ω for bb fresh Gaussian columns, projected off Q; returns the projected column norms. */
        double[] sample(long seed, int bb) {
            // One stream per sample, so that a resumed run draws what the interrupted one would have drawn.
            SplittableRandom rng = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (++samples)));
            Tensor om = omega.view(0, n, bb);
            Tensor ww = w.view(0, n, bb);
            for (long i = 0; i < om.size(); i++) {
                om.set(i, Rng.gaussian(rng));
            }
            applyOp(om, ww);
            double[] no = columnNorms(om, bb);
            double[] nw = columnNorms(ww, bb);
            lastSigma = 0;
            for (int c = 0; c < bb; c++) {
                if (no[c] > 0) {
                    lastSigma = Math.max(lastSigma, nw[c] / no[c]);
                }
            }
            setFloor(nw, bb);
            return project(ww, bb, nw);
        }

        /**
         * Z = A·Q_j for the block of {@code width} vectors appended last; records QᵀZ as column block j of T; the
         * next candidate W = the first {@code next} columns of Z projected off Q. Returns W's column norms.
         */
        double[] expand(int width, int next) {
            int start = m - width;
            Tensor zz = z.view(0, n, width);
            MemorySegment zs = zz.segment();
            for (int c = 0; c < width; c++) {
                MemorySegment row = basisRow(start + c).segment();
                for (int i = 0; i < n; i++) {
                    zs.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * width + c,
                            row.getAtIndex(ValueLayout.JAVA_DOUBLE, i));
                }
            }
            Tensor ww = w.view(0, n, width);
            applyOp(zz, ww); // ww = A·Q_j (unit columns, so each norm is a lower bound on σ_max)
            double[] nz = columnNorms(ww, width);
            lastSigma = 0;
            for (double x : nz) {
                lastSigma = Math.max(lastSigma, x);
            }
            setFloor(nz, width);
            // Local pass first: A·Q_j lies mostly in the span of the last two blocks (the block Lanczos recurrence),
            // so after removing those the global pass meets only rounding-level coefficients and one pass suffices
            // (Kahan–Parlett, checked below) instead of two full passes over the basis.
            double[] tb = new double[m * width];
            int lo = Math.max(0, start - prevWidth);
            subtractProjection(ww, width, lo, m, tb);
            double[] local = columnNorms(ww, width);
            subtractProjection(ww, width, 0, m, tb); // the global pass; coefficients add up to QᵀZ
            tBlocks.add(tb);
            tShape.add(new int[] {start, width});
            prevWidth = width;
            double[] after = columnNorms(ww, width);
            boolean again = false;
            for (int c = 0; c < width; c++) {
                // Heavy cancellation in the local pass leaves rounding errors of ‖Z‖·ε that are a large part of the
                // remainder: then a full second pass as well.
                again |= after[c] < local[c] * reorth || local[c] < nz[c] * 1e-3;
            }
            if (again) {
                projectOnce(ww, width);
                after = columnNorms(ww, width);
            }
            requireContraction(after, nz);
            if (next < width) {
                // Fewer directions remain than the block holds: keep the first `next` columns.
                Tensor src = ww;
                Tensor dst = Tensor.allocate(arena, DType.F64, n, next);
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < next; c++) {
                        dst.set(i, c, src.get(i, c));
                    }
                }
                Tensor target = w.view(0, n, next);
                target.copyFrom(dst);
                return java.util.Arrays.copyOf(after, next);
            }
            return after;
        }

        /**
         * {@code t -= Q_r·(Q_rᵀt)} for the basis rows {@code r ∈ [from, to)}, adding the coefficients into rows
         * {@code from..to} of {@code acc} (row-major, k columns).
         */
        void subtractProjection(Tensor t, int k, int from, int to, double[] acc) {
            for (int r0 = from; r0 < to; ) {
                int p = r0 / PANEL_ROWS;
                int off = r0 % PANEL_ROWS;
                int u = Math.min(PANEL_ROWS - off, to - r0);
                Tensor q = panels.get(p).view((long) off * n, u, n);
                Tensor cv = coef.view(0, u, k);
                be.gemm(false, false, 1.0, q, t, 0.0, cv);
                be.gemm(true, false, -1.0, q, cv, 1.0, t);
                MemorySegment cs = cv.segment();
                for (int i = 0; i < u * k; i++) {
                    acc[r0 * k + i] += cs.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
                }
                r0 += u;
            }
        }

        /** Projects W (n × k) off Q (CGS, second pass when a column lost more than 1/√2). */
        double[] project(Tensor t, int k, double[] before) {
            if (m == 0) {
                return before.clone();
            }
            projectOnce(t, k);
            double[] after = columnNorms(t, k);
            boolean again = false;
            for (int c = 0; c < k; c++) {
                again |= after[c] < before[c] * reorth;
            }
            if (again) {
                projectOnce(t, k);
                after = columnNorms(t, k);
            }
            requireContraction(after, before);
            return after;
        }

        /** A projection never lengthens a vector; if it did, Q has lost its orthogonality (fail, never miscount). */
        void requireContraction(double[] after, double[] before) {
            for (int c = 0; c < after.length && c < before.length; c++) {
                if (after[c] > before[c] * (1 + 1e-6) + Double.MIN_NORMAL) {
                    throw new IllegalStateException(String.format(Locale.ROOT, "the basis of %s lost its"
                            + " orthogonality at %d vectors (a projected column grew from %.3e to %.3e)",
                            op.description(), m, before[c], after[c]));
                }
            }
        }

        /** One pass of block classical Gram–Schmidt of the n × k tensor t against the basis. */
        void projectOnce(Tensor t, int k) {
            int np = panels.size();
            for (int p = 0; p < np; p++) {
                int u = Math.min(PANEL_ROWS, m - p * PANEL_ROWS);
                Tensor q = panels.get(p).view(0, u, n);
                Tensor c = coef.view(0, u, k);
                be.gemm(false, false, 1.0, q, t, 0.0, c);
                be.gemm(true, false, -1.0, q, c, 1.0, t);
            }
        }

        /**
         * Orthonormalizes the projected candidate inside the block (modified Gram–Schmidt twice) and appends the
         * columns whose norm stays above {@code cut} (= f(b)·τ̂): a smaller remainder carries nothing of
         * the range above the tolerance, and appending it would grow the basis with rounding noise. Returns the
         * number of vectors appended.
         */
        int orthonormalizeAndAppend(int bb, double[] res, double cut, int maxBasis) {
            Tensor ww = w.view(0, n, bb);
            MemorySegment seg = ww.segment();
            int kept = 0;
            boolean lost = false;
            for (int c = 0; c < bb; c++) {
                double keepAbove = Math.max(cut, floor[c]);
                if (!(res[c] > keepAbove)) {
                    continue;
                }
                double[] r = rows[kept] == null ? (rows[kept] = new double[n]) : rows[kept];
                for (int i = 0; i < n; i++) {
                    r[i] = seg.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * bb + c);
                }
                double before = norm(r);
                double nr = inBlock(r, kept);
                if (!(nr > keepAbove)) {
                    continue;
                }
                // Cancellation inside the block magnifies what is left of Q's directions (≈ ε·before/nr).
                lost |= nr < reorth * before;
                scale(1.0 / nr, r);
                kept++;
            }
            for (int round = 0; lost && kept > 0 && round < 3; round++) {
                // Re-project the normalized block off Q and re-orthonormalize it inside (unit columns now).
                Tensor t = ww.view(0, n, kept);
                MemorySegment ts = t.segment();
                for (int c = 0; c < kept; c++) {
                    for (int i = 0; i < n; i++) {
                        ts.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * kept + c, rows[c][i]);
                    }
                }
                projectOnce(t, kept);
                int k2 = 0;
                lost = false;
                for (int c = 0; c < kept; c++) {
                    double[] r = rows[k2];
                    for (int i = 0; i < n; i++) {
                        r[i] = ts.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * kept + c);
                    }
                    double nr = inBlock(r, k2);
                    if (!(nr > 1e-8)) {
                        continue; // was rounding noise of Q's directions and of the block
                    }
                    lost |= nr < reorth;
                    scale(1.0 / nr, r);
                    k2++;
                }
                kept = k2;
            }
            if (m + kept > maxBasis) {
                throw new InvalidInputException("the randomized rank of " + op.description() + " needs more than "
                        + maxBasis + " basis vectors (n = " + n + ")");
            }
            for (int c = 0; c < kept; c++) {
                int p = m / PANEL_ROWS;
                if (p == panels.size()) {
                    panels.add(Tensor.allocate(basis.arena, DType.F64, PANEL_ROWS, n));
                }
                long off = (long) (m % PANEL_ROWS) * n * 8;
                MemorySegment.copy(rows[c], 0, panels.get(p).segment(), ValueLayout.JAVA_DOUBLE, off, n);
                m++;
            }
            basis.m = m;
            return kept;
        }

        /** Modified Gram–Schmidt of r against rows[0..count) twice; returns the remaining norm. */
        double inBlock(double[] r, int count) {
            for (int pass = 0; pass < 2; pass++) {
                for (int l = 0; l < count; l++) {
                    axpy(-dot(rows[l], r), rows[l], r);
                }
            }
            return norm(r);
        }

        /** Row j of the basis (a unit vector) as a view. */
        Tensor basisRow(int j) {
            return panels.get(j / PANEL_ROWS).view((long) (j % PANEL_ROWS) * n, 1, n);
        }

        /**
         * T = QᵀAQ (m × m) from the recorded column blocks; every block appended has been expanded except possibly
         * the last (when Q reached R^n), whose products are computed here.
         */
        Tensor projectedMatrix() {
            int covered = tShape.isEmpty() ? 0 : tShape.get(tShape.size() - 1)[0] + tShape.get(tShape.size() - 1)[1];
            if (covered < m) {
                expand(m - covered, m - covered);
            }
            if (DEBUG) {
                double worst = 0;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j <= i; j++) {
                        double d = 0;
                        for (int r = 0; r < n; r++) d += basisRow(i).get(r) * basisRow(j).get(r);
                        worst = Math.max(worst, Math.abs(d - (i == j ? 1 : 0)));
                    }
                }
                System.err.println("orthogonality " + worst + " m=" + m);
            }
            Tensor t = Tensor.allocate(arena, DType.F64, m, m);
            MemorySegment ts = t.segment();
            for (int j = 0; j < tBlocks.size(); j++) {
                double[] tb = tBlocks.get(j);
                int start = tShape.get(j)[0];
                int width = tShape.get(j)[1];
                int rowsJ = start + width;
                for (int i = 0; i < rowsJ; i++) {
                    for (int c = 0; c < width; c++) {
                        int gj = start + c;
                        double x = tb[i * width + c];
                        if (i < start) {
                            ts.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * m + gj, x);
                            ts.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) gj * m + i, x);
                        } else if (i <= gj) {
                            // Diagonal block: both (i, gj) and (gj, i) were computed; store their mean.
                            double y = tb[(gj) * width + (i - start)];
                            double mean = 0.5 * (x + y);
                            ts.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * m + gj, mean);
                            ts.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) gj * m + i, mean);
                        }
                    }
                }
            }
            long bad = t.firstNonFinite();
            if (bad >= 0) {
                throw new InvalidInputException("the projected matrix of " + op.description()
                        + " has a non-finite entry (the operator produced NaN or infinity)");
            }
            return t;
        }
    }

    static double[] columnNorms(Tensor t, int k) {
        // Scaled sums of squares per column (no overflow for finite entries).
        int rowsN = t.rows();
        MemorySegment s = t.segment();
        double[] scale = new double[k];
        double[] ssq = new double[k];
        java.util.Arrays.fill(ssq, 1.0);
        for (int i = 0; i < rowsN; i++) {
            long base = (long) i * k;
            for (int c = 0; c < k; c++) {
                double x = Math.abs(s.getAtIndex(ValueLayout.JAVA_DOUBLE, base + c));
                if (x != 0) {
                    if (scale[c] < x) {
                        double r = scale[c] / x;
                        ssq[c] = 1 + ssq[c] * r * r;
                        scale[c] = x;
                    } else {
                        double r = x / scale[c];
                        ssq[c] += r * r;
                    }
                } else if (Double.isNaN(x)) {
                    throw new InvalidInputException("the operator produced NaN");
                }
            }
        }
        double[] out = new double[k];
        for (int c = 0; c < k; c++) {
            out[c] = scale[c] * Math.sqrt(ssq[c]);
            if (!Double.isFinite(out[c])) {
                throw new InvalidInputException("the operator produced a non-finite product");
            }
        }
        return out;
    }

    static double norm2(Tensor t) {
        return columnNorms(t.reshape((int) t.size(), 1), 1)[0];
    }

    static double dot(double[] a, double[] b) {
        int n = a.length;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
        for (; i < n; i++) {
            s0 += a[i] * b[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    static void axpy(double alpha, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += alpha * x[i];
        }
    }

    static void scale(double s, double[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] *= s;
        }
    }

    static double norm(double[] a) {
        double mx = 0;
        for (double x : a) {
            mx = Math.max(mx, Math.abs(x));
        }
        if (mx == 0 || !Double.isFinite(mx)) {
            return mx;
        }
        double s = 0, inv = 1 / mx;
        for (double x : a) {
            double y = x * inv;
            s += y * y;
        }
        return mx * Math.sqrt(s);
    }


    /**
     * A one-line summary, e.g. for logs.
     *
     * @param r a result
     * @return rank, basis, product columns and seconds
     */
    public static String summary(Result r) {
        return String.format(Locale.ROOT, "rank %d (basis %d, %d product columns, %.1f s)", r.report().rank(),
                r.basis(), r.productColumns(), r.seconds());
    }
}
