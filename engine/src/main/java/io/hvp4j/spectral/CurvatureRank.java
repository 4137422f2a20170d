package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;
import io.hvp4j.Progress;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.backend.Backend;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Numerical ranks of the curvature operators of any {@link Objective} (an MLP, a graph, or any other), for all
 * parameters or one {@link ParameterGroup}: the plan (dense or randomized by size), the checkpoint files and their
 * fingerprints, and the reuse of H's randomized basis as the start of H_F's (range(H_F) lies in
 * range(H) + range(H_O)).
 *
 * <p>Dense: the operator is assembled ({@link DenseAssembly}, float64 storage), its eigenvalues computed
 * ({@link SymmetricEigen}) and counted ({@link NumericalRank}). Randomized: {@link RandomizedRank}, no n×n
 * matrix. Not thread-safe (it drives the objective, which is not); the objective stays the caller's.
 */
public final class CurvatureRank {
    /** {@link Method#AUTO} takes the dense path up to this many rows. */
    public static final int AUTO_DENSE_MAX = 4000;

    private CurvatureRank() {
    }

    /** How the rank is computed. */
    public enum Method {
        /** Exact: assemble the n×n matrix (n at most {@link DenseAssembly#MAX_DIMENSION}). */
        DENSE,
        /** {@link RandomizedRank}: a basis of the range, no n×n matrix. */
        RANDOMIZED,
        /** Dense up to {@link #AUTO_DENSE_MAX} rows, else randomized. */
        AUTO;

        /**
         * Parses a method name.
         *
         * @param s {@code dense}, {@code randomized} or {@code auto}
         * @return the method
         * @throws InvalidInputException for any other name
         */
        public static Method parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "dense" -> DENSE;
                case "randomized" -> RANDOMIZED;
                case "auto" -> AUTO;
                default -> throw new InvalidInputException("unknown --method '" + s
                        + "' (expected dense, randomized or auto)");
            };
        }

        /**
         * The method that runs.
         *
         * @param n the operator's rows
         * @return this method, or for {@link #AUTO} dense or randomized
         */
        public Method resolve(int n) {
            return this != AUTO ? this : n <= AUTO_DENSE_MAX ? DENSE : RANDOMIZED;
        }

        /**
         * The name in options and output.
         *
         * @return {@code dense}, {@code randomized} or {@code auto}
         */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Told what runs; each hook may throw an unchecked exception to stop the computation. */
    public interface Monitor {
        /**
         * Where one operator's dense assembly reports.
         *
         * @param c the operator
         * @param n its rows
         * @return the progress sink (units: columns), or null for none
         */
        default Progress dense(Curvature c, int n) {
            return null;
        }

        /**
         * Where one operator's randomized rank reports.
         *
         * @param c the operator
         * @param n its rows
         * @return the progress sink (told each stage), or null for none
         */
        default Progress randomized(Curvature c, int n) {
            return null;
        }

        /**
         * A stage without a count began.
         *
         * @param c     the operator
         * @param stage e.g. {@code computing eigenvalues (lapack)}
         */
        default void stage(Curvature c, String stage) {
        }

        /**
         * One operator is done.
         *
         * @param c the operator
         */
        default void done(Curvature c) {
        }
    }

    /** Options (mutable builder); the defaults are numpy's tolerance, the default eigensolver, no checkpoint. */
    public static final class Options {
        Method method = Method.DENSE;
        NumericalRank.Tolerance tolerance = NumericalRank.Tolerance.DEFAULT;
        SymmetricEigen solver;
        int denseBlock = DenseAssembly.DEFAULT_BLOCK;
        int randomizedBlock = RandomizedRank.DEFAULT_BLOCK;
        long seed = 1;
        RandomizedRank.Gemm gemm;
        String gemmName = "engine";
        Path checkpoint;
        double checkpointSeconds = 30;

        Monitor monitor = new Monitor() {
        };

        /** Options with every default. */
        public Options() {
        }

        /**
         * How the rank is computed; default dense.
         *
         * @param m the method
         * @return these options
         */
        public Options method(Method m) {
            method = Objects.requireNonNull(m, "method");
            return this;
        }

        /**
         * The rank's tolerance; default numpy's {@code σ_max·n·ε}.
         *
         * @param t the tolerance, or null for the default
         * @return these options
         */
        public Options tolerance(NumericalRank.Tolerance t) {
            tolerance = t == null ? NumericalRank.Tolerance.DEFAULT : t;
            return this;
        }

        /**
         * The eigensolver.
         *
         * @param s the solver, or null for {@code SymmetricEigen.select(null)}
         * @return these options
         */
        public Options solver(SymmetricEigen s) {
            solver = s;
            return this;
        }

        /**
         * Columns per product of the dense assembly (capped by the objective's maximum block).
         *
         * @param k at least 1
         * @return these options
         */
        public Options denseBlock(int k) {
            requirePositive(k);
            denseBlock = k;
            return this;
        }

        /**
         * Columns per block of the randomized method (capped by the objective's maximum block).
         *
         * @param k at least 1
         * @return these options
         */
        public Options randomizedBlock(int k) {
            requirePositive(k);
            randomizedBlock = k;
            return this;
        }

        /**
         * Seed of the randomized method's random blocks; default 1.
         *
         * @param s the seed
         * @return these options
         */
        public Options seed(long s) {
            seed = s;
            return this;
        }

        /**
         * The randomized basis's matrix products.
         *
         * @param g    the GEMM, or null for the engine's
         * @param name its name, part of the checkpoint fingerprint
         * @return these options
         */
        public Options gemm(RandomizedRank.Gemm g, String name) {
            gemm = g;
            gemmName = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * Checkpoint each operator's assembly or basis to {@code file} (one operator) or {@code file.H},
         * {@code file.H_O}, {@code file.H_F} (several), every {@code everySeconds}; a checkpoint written for another
         * objective or other options is refused.
         *
         * @param file         the checkpoint's base name, or null for none
         * @param everySeconds how often it is written
         * @return these options
         */
        public Options checkpoint(Path file, double everySeconds) {
            checkpoint = file;
            checkpointSeconds = everySeconds;
            return this;
        }

        /**
         * Who is told what runs.
         *
         * @param m the monitor
         * @return these options
         */
        public Options monitor(Monitor m) {
            monitor = Objects.requireNonNull(m, "monitor");
            return this;
        }

        private static void requirePositive(int k) {
            if (k < 1) {
                throw new InvalidInputException("--block must be positive, got " + k);
            }
        }
    }

    /**
     * The ranks, by operator in the order asked.
     *
     * @param method      dense or randomized (never auto)
     * @param dimension   n, the rows of each operator (P, or the group's size)
     * @param reports     rank, tolerance, ladder and gap per operator
     * @param asymmetry   {@code ‖A − Aᵀ‖_F / ‖A‖_F} of each assembled matrix (NaN for the randomized method)
     * @param basis       the randomized basis size per operator (empty for the dense method)
     * @param checkpoints the checkpoint files used (the caller decides whether to delete them)
     */
    public record Result(Method method, int dimension, Map<Curvature, RankReport> reports,
                         Map<Curvature, Double> asymmetry, Map<Curvature, Integer> basis, List<Path> checkpoints) {
    }

    /**
     * The size of a group's operators.
     *
     * @param f     the objective
     * @param group a parameter group, or null for all parameters
     * @return the operators' rows
     */
    public static int dimension(Objective f, ParameterGroup group) {
        return group == null ? f.parameterCount() : group.size();
    }

    /**
     * The dense path's memory.
     *
     * @param n      the operator's rows
     * @param solver the eigensolver (EJML keeps a second copy)
     * @return bytes for the {@code n × n} matrix
     */
    public static long denseBytes(int n, SymmetricEigen solver) {
        return (long) n * n * 8 * (solver.name().equals("ejml") ? 2 : 1);
    }

    /**
     * One operator's checkpoint file.
     *
     * @param file  the base name
     * @param c     the operator
     * @param count how many operators share the base name
     * @return {@code file} for one operator, else {@code file.H}, {@code file.H_O} or {@code file.H_F}
     */
    public static Path checkpointFile(Path file, Curvature c, int count) {
        return count == 1 ? file : Path.of(file + "." + c.symbol());
    }

    /**
     * Everything that determines the assembled matrix of {@code c}: the objective's {@link Objective#fingerprint}
     * and the block. The dense block size is not part of it: a resumed assembly keeps the block stored in the
     * checkpoint, so that the columns are computed alike.
     *
     * @param f     the objective (parameters set)
     * @param c     the operator
     * @param group a parameter group, or null for all parameters
     * @return the fingerprint
     */
    public static String fingerprint(Objective f, Curvature c, ParameterGroup group) {
        return "hvp4j dense assembly v2; op=" + c.id() + "; group=" + (group == null ? "all" : group.name()) + "; "
                + f.fingerprint();
    }

    /**
     * The eigenvalues of one assembled curvature matrix.
     *
     * @param values         ascending, n of them
     * @param asymmetry      {@code ‖A − Aᵀ‖_F / ‖A‖_F} before symmetrization
     * @param resumedColumns columns read from the checkpoint
     */
    public record Eigenvalues(double[] values, double asymmetry, int resumedColumns) {
    }

    /**
     * Assembles curvature {@code c} of {@code group} densely (checkpointed to {@code checkpoint} unless null, with
     * {@link #fingerprint}) and computes its eigenvalues with the options' solver; the monitor sees the columns and
     * the eigenvalue stage. The n×n matrix lives only during the call.
     *
     * @param f          the objective (parameters set)
     * @param c          the operator
     * @param group      a parameter group, or null for all parameters
     * @param checkpoint the checkpoint file, or null
     * @param o          solver, block, monitor, checkpoint interval
     * @return the eigenvalues
     */
    public static Eigenvalues eigenvalues(Objective f, Curvature c, ParameterGroup group, Path checkpoint,
                                          Options o) {
        SymmetricEigen solver = o.solver != null ? o.solver : SymmetricEigen.select(null);
        DenseAssembly.Options d = new DenseAssembly.Options().maxBlock(o.denseBlock)
                .progress(o.monitor.dense(c, dimension(f, group)));
        if (checkpoint != null) {
            d.checkpoint(checkpoint).fingerprint(fingerprint(f, c, group)).checkpointEverySeconds(o.checkpointSeconds);
        }
        try (Arena arena = Arena.ofConfined()) {
            DenseAssembly.Result r = DenseAssembly.assemble(Operators.curvature(f, c, group), arena, d);
            o.monitor.stage(c, "computing eigenvalues (" + solver.name() + ")");
            return new Eigenvalues(solver.decomposeInPlace(r.matrix(), false), r.asymmetry(), r.resumedColumns());
        }
    }

    /**
     * The ranks of {@code ops} on {@code group} of {@code f} (parameters set). Randomized GEMMs run on
     * {@code hostBackend} (a backend computing in host memory).
     *
     * @param f           the objective (parameters set)
     * @param group       a parameter group, or null for all parameters
     * @param ops         the operators to rank
     * @param hostBackend runs the randomized method's matrix products
     * @param o           the options
     * @return the ranks
     */
    public static Result compute(Objective f, ParameterGroup group, List<Curvature> ops, Backend hostBackend,
                                 Options o) {
        int n = dimension(f, group);
        Method method = o.method.resolve(n);
        SymmetricEigen solver = o.solver != null ? o.solver : SymmetricEigen.select(null);
        Map<Curvature, RankReport> reports = new LinkedHashMap<>();
        Map<Curvature, Double> asymmetry = new LinkedHashMap<>();
        Map<Curvature, Integer> basis = new LinkedHashMap<>();
        List<Path> used = new ArrayList<>();
        RandomizedRank.Basis hessianBasis = null;
        try {
            for (Curvature c : ops) {
                Path ck = o.checkpoint == null ? null : checkpointFile(o.checkpoint, c, ops.size());
                if (ck != null) {
                    used.add(ck);
                }
                if (method == Method.RANDOMIZED) {
                    SymmetricOperator op = Operators.curvature(f, c, group);
                    boolean keep = c == Curvature.HESSIAN && ops.contains(Curvature.FUNCTIONAL);
                    RandomizedRank.Options ro = new RandomizedRank.Options().block(o.randomizedBlock).seed(o.seed)
                            .tolerance(o.tolerance).solver(solver).progress(o.monitor.randomized(c, n))
                            .start(c == Curvature.FUNCTIONAL ? hessianBasis : null).keepBasis(keep).gemm(o.gemm);
                    if (ck != null) {
                        ro.checkpoint(ck, o.checkpointSeconds, fingerprint(f, c, group) + "|blas=" + o.gemmName);
                    }
                    RandomizedRank.Result r = RandomizedRank.compute(op, hostBackend, ro);
                    if (keep) {
                        hessianBasis = r.kept();
                    }
                    reports.put(c, r.report());
                    asymmetry.put(c, Double.NaN);
                    basis.put(c, r.basis());
                } else {
                    Eigenvalues e = eigenvalues(f, c, group, ck, o);
                    reports.put(c, NumericalRank.ofEigenvalues(e.values(), f.dtype(), o.tolerance));
                    asymmetry.put(c, e.asymmetry());
                }
                o.monitor.done(c);
            }
        } finally {
            if (hessianBasis != null) {
                hessianBasis.close();
            }
        }
        return new Result(method, n, Collections.unmodifiableMap(reports), Collections.unmodifiableMap(asymmetry),
                Collections.unmodifiableMap(basis), List.copyOf(used));
    }
}
