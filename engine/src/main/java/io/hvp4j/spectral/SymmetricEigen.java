package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * Eigenvalues (ascending) and optionally eigenvectors of a dense symmetric float64 matrix.
 *
 * <p>Two implementations: {@link #lapack()} calls LAPACK's {@code dsyevd} (divide and conquer) in the system's
 * LAPACK/OpenBLAS through the FFM API; {@link #ejml()} is the pure-Java symmetric QR algorithm of EJML, used when
 * no native library is found. {@link #select} picks one: {@link Kind#AUTO} takes the native one when present.
 * The default kind is read from the system property {@value #KIND_PROPERTY} or the environment variable
 * {@value #KIND_ENV} ({@code auto}, {@code lapack} or {@code ejml}); the native library from
 * {@value LapackEigen#LIBRARY_PROPERTY} / {@value LapackEigen#LIBRARY_ENV} (see {@link LapackEigen}).
 *
 * <p>The matrix must be symmetric; which triangle is read is unspecified. Instances are thread-safe.
 */
public interface SymmetricEigen {
    /** System property choosing the default solver: {@code auto}, {@code lapack} or {@code ejml}. */
    String KIND_PROPERTY = "hvp4j.eigen";
    /** Environment variable choosing the default solver (the property wins). */
    String KIND_ENV = "HVP4J_EIGEN";

    /** Which implementation. */
    enum Kind {
        /** LAPACK when a native library is found, else EJML. */
        AUTO,
        /** LAPACK {@code dsyevd} through FFM; an error when no library is found. */
        LAPACK,
        /** EJML, pure Java. */
        EJML;

        /**
         * Parses a solver name.
         *
         * @param s {@code auto}, {@code lapack} ({@code native}) or {@code ejml} ({@code java}), any case
         * @return the kind
         * @throws InvalidInputException for any other name
         */
        public static Kind parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "lapack", "native" -> LAPACK;
                case "ejml", "java" -> EJML;
                default -> throw new InvalidInputException("unknown eigensolver '" + s
                        + "' (expected auto, lapack or ejml)");
            };
        }

        /**
         * The name in options and output.
         *
         * @return {@code auto}, {@code lapack} or {@code ejml}
         */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The solver, for reports.
     *
     * @return a short name, e.g. {@code "lapack dsyevd (libopenblas.so.0)"} or {@code "ejml"}
     */
    String name();

    /**
     * Decomposes the symmetric {@code n × n} f64 tensor {@code a} in place and returns its eigenvalues in
     * ascending order. Afterwards {@code a} holds the eigenvectors when {@code vectors} is true (column
     * {@code j} is the unit eigenvector of eigenvalue {@code j}, as numpy's {@code eigh}); otherwise its content
     * is unspecified.
     *
     * @param a       a symmetric {@code n × n} f64 host tensor, overwritten
     * @param vectors whether to leave the eigenvectors in {@code a}
     * @return the eigenvalues, ascending
     * @throws InvalidInputException for non-finite entries
     */
    double[] decomposeInPlace(Tensor a, boolean vectors);

    /**
     * The eigenvalues of a symmetric tensor, which is left unchanged.
     *
     * @param a a symmetric {@code n × n} tensor
     * @return its eigenvalues, ascending
     */
    default double[] eigenvalues(Tensor a) {
        try (Arena tmp = Arena.ofConfined()) {
            Tensor copy = Tensor.allocate(tmp, DType.F64, a.rows(), a.cols());
            copy.copyFrom(a);
            return decomposeInPlace(copy, false);
        }
    }

    /**
     * The eigenvalues of a small symmetric matrix given as arrays.
     *
     * @param m the rows, {@code n × n}
     * @return its eigenvalues, ascending
     */
    default double[] eigenvalues(double[][] m) {
        int n = m.length;
        try (Arena tmp = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(tmp, DType.F64, n, n);
            for (int i = 0; i < n; i++) {
                if (m[i].length != n) {
                    throw new IllegalArgumentException("row " + i + " has " + m[i].length + " elements, not " + n);
                }
                MemorySegment.copy(m[i], 0, t.segment(), ValueLayout.JAVA_DOUBLE, (long) i * n * 8, n);
            }
            return decomposeInPlace(t, false);
        }
    }

    /**
     * The native solver.
     *
     * @return LAPACK's {@code dsyevd} through FFM
     * @throws InvalidInputException (with the reason) when no LAPACK library was found
     */
    static SymmetricEigen lapack() {
        return LapackEigen.instance();
    }

    /**
     * Whether the native solver can run.
     *
     * @return whether a native LAPACK with {@code dsyevd_} was found
     */
    static boolean lapackAvailable() {
        return LapackEigen.available();
    }

    /**
     * Why the native solver cannot run.
     *
     * @return the reason, or null when it is available
     */
    static String lapackUnavailableReason() {
        return LapackEigen.unavailableReason();
    }

    /**
     * The pure-Java solver.
     *
     * @return EJML's
     */
    static SymmetricEigen ejml() {
        return EjmlEigen.INSTANCE;
    }

    /**
     * Picks a solver.
     *
     * @param kind the kind, or null for {@link #defaultKind()}
     * @return the solver
     * @throws InvalidInputException when LAPACK is asked for and not found
     */
    static SymmetricEigen select(Kind kind) {
        Kind k = kind == null ? defaultKind() : kind;
        SymmetricEigen s = switch (k) {
            case LAPACK -> lapack();
            case EJML -> ejml();
            case AUTO -> lapackAvailable() ? lapack() : ejml();
        };
        org.slf4j.LoggerFactory.getLogger(SymmetricEigen.class).debug("eigensolver {} (requested {})", s.name(), k);
        return s;
    }

    /**
     * The configured kind.
     *
     * @return the kind named by {@value #KIND_PROPERTY} or {@value #KIND_ENV}, else {@link Kind#AUTO}
     */
    static Kind defaultKind() {
        String s = System.getProperty(KIND_PROPERTY);
        if (s == null || s.isBlank()) {
            s = System.getenv(KIND_ENV);
        }
        return s == null || s.isBlank() ? Kind.AUTO : Kind.parse(s);
    }

    /**
     * Checks a matrix for the solvers.
     *
     * @param a the matrix
     * @return n
     * @throws IllegalArgumentException unless {@code a} is a square f64 tensor
     * @throws InvalidInputException for a non-finite entry
     */
    static int requireSquareFinite(Tensor a) {
        if (a.rows() != a.cols()) {
            throw new IllegalArgumentException("eigenvalues need a square matrix, got " + a.shapeString());
        }
        if (a.dtype() != DType.F64) {
            throw new IllegalArgumentException("eigenvalues need an f64 matrix, got " + a.dtype());
        }
        long bad = a.firstNonFinite();
        if (bad >= 0) {
            throw new InvalidInputException("the matrix has a non-finite entry (" + a.get(bad) + ") at row "
                    + bad / a.cols() + ", column " + bad % a.cols() + "; no eigenvalues computed");
        }
        return a.rows();
    }
}
