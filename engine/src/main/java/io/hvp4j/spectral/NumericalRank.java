package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Numerical rank with the project's convention (docs/theory.md §1): count the singular values strictly above
 * {@code τ}, by default {@code τ = σ_max · max(rows, cols) · ε} exactly as {@code numpy.linalg.matrix_rank}
 * (ε of the dtype the matrix was computed in: 2^-52 for f64, 2^-23 for f32). For a symmetric matrix the singular
 * values are the absolute eigenvalues. Every report also carries the ladder of counts at the relative thresholds
 * {@link #LADDER} and the gap at the cut, so a reader sees whether the rank is well defined.
 */
public final class NumericalRank {
    /** Relative thresholds of the ladder (times σ_max). */
    public static final double[] LADDER = {1e-12, 1e-10, 1e-8, 1e-6, 1e-4};
    /** The ladder's keys, in order. */
    public static final String[] LADDER_KEYS = {"1e-12", "1e-10", "1e-8", "1e-6", "1e-4"};

    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private NumericalRank() {
    }

    /**
     * How the threshold τ is chosen.
     *
     * @param kind  the rule
     * @param value the factor of a relative tolerance or the absolute threshold (NaN for the default)
     */
    public record Tolerance(Kind kind, double value) {
        /** The rules. */
        public enum Kind {
            /** {@code σ_max · max(rows, cols) · ε} (numpy's matrix_rank). */
            DEFAULT,
            /** {@code σ_max · value}. */
            RELATIVE,
            /** {@code value}. */
            ABSOLUTE
        }

        /** numpy's tolerance. */
        public static final Tolerance DEFAULT = new Tolerance(Kind.DEFAULT, Double.NaN);

        /** Validates the value ({@link InvalidInputException} for a negative or non-finite one). */
        public Tolerance {
            if (kind != Kind.DEFAULT && !(value >= 0 && value < Double.POSITIVE_INFINITY)) {
                throw new InvalidInputException("tolerance must be a finite non-negative number, got " + value);
            }
        }

        /**
         * A tolerance relative to σ_max.
         *
         * @param x the factor, finite and non-negative
         * @return {@code τ = σ_max · x}
         */
        public static Tolerance relative(double x) {
            return new Tolerance(Kind.RELATIVE, x);
        }

        /**
         * An absolute tolerance.
         *
         * @param x the threshold, finite and non-negative
         * @return {@code τ = x}
         */
        public static Tolerance absolute(double x) {
            return new Tolerance(Kind.ABSOLUTE, x);
        }

        /**
         * Parses {@code default}, {@code rel:X} or {@code abs:X} (X a finite non-negative decimal number, e.g.
         * {@code 1e-10}); {@code null} or blank means default. Anything else is an {@link InvalidInputException}
         * with a one-line message.
         *
         * @param s the text, or null
         * @return the tolerance
         */
        public static Tolerance parse(String s) {
            if (s == null || s.isBlank() || s.trim().equalsIgnoreCase("default")) {
                return DEFAULT;
            }
            String t = s.trim();
            int colon = t.indexOf(':');
            if (colon < 0) {
                if (DECIMAL.matcher(t).matches()) {
                    throw new InvalidInputException("--tol '" + s + "' needs a prefix: rel:" + t
                            + " (times sigma_max) or abs:" + t + " (absolute)");
                }
                throw new InvalidInputException("unknown tolerance '" + s + "' (expected default, rel:X or abs:X)");
            }
            String prefix = t.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            Kind kind = switch (prefix) {
                case "rel", "relative" -> Kind.RELATIVE;
                case "abs", "absolute" -> Kind.ABSOLUTE;
                default -> throw new InvalidInputException("unknown tolerance prefix '" + t.substring(0, colon)
                        + "' in '" + s + "' (expected default, rel:X or abs:X)");
            };
            String num = t.substring(colon + 1).trim();
            if (num.isEmpty()) {
                throw new InvalidInputException("tolerance '" + s + "' has no value after '" + prefix + ":'");
            }
            String lower = num.toLowerCase(Locale.ROOT);
            if (lower.contains("nan")) {
                throw new InvalidInputException("tolerance '" + s + "' is NaN; give a finite non-negative number");
            }
            if (lower.contains("inf")) {
                throw new InvalidInputException("tolerance '" + s + "' is infinite; give a finite non-negative number");
            }
            if (!DECIMAL.matcher(num).matches()) {
                throw new InvalidInputException("tolerance '" + s + "': '" + num + "' is not a number");
            }
            double x = Double.parseDouble(num);
            if (x < 0 || num.startsWith("-")) {
                throw new InvalidInputException("tolerance '" + s + "' is negative; give a non-negative number");
            }
            if (!Double.isFinite(x)) {
                throw new InvalidInputException("tolerance '" + s + "' overflows a double");
            }
            return new Tolerance(kind, x);
        }

        /**
         * The threshold for one matrix.
         *
         * @param sigmaMax its largest singular value
         * @param rows     its rows
         * @param cols     its columns
         * @param dtype    the precision its entries were computed in
         * @return τ
         */
        public double threshold(double sigmaMax, int rows, int cols, DType dtype) {
            return switch (kind) {
                // Same operation order as numpy: S.max() * max(M, N) * eps.
                case DEFAULT -> sigmaMax * Math.max(rows, cols) * dtype.epsilon();
                case RELATIVE -> sigmaMax * value;
                case ABSOLUTE -> value;
            };
        }

        /**
         * The tolerance as {@link #parse} reads it.
         *
         * @return {@code "default"}, {@code "rel:X"} or {@code "abs:X"}
         */
        public String spec() {
            return switch (kind) {
                case DEFAULT -> "default";
                case RELATIVE -> "rel:" + value;
                case ABSOLUTE -> "abs:" + value;
            };
        }
    }

    /**
     * The rank of a symmetric {@code n × n} matrix from its eigenvalues.
     *
     * @param eigenvalues n eigenvalues, any order
     * @param dtype       the precision the matrix was computed in
     * @param tol         the tolerance rule
     * @return the rank with tolerance, ladder and gap
     */
    public static RankReport ofEigenvalues(double[] eigenvalues, DType dtype, Tolerance tol) {
        double[] s = new double[eigenvalues.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.abs(eigenvalues[i]);
        }
        return ofSingularValues(s, eigenvalues.length, eigenvalues.length, dtype, tol);
    }

    /**
     * The rank of a {@code rows × cols} matrix from its singular values.
     *
     * @param singularValues non-negative, any order
     * @param rows           the matrix's rows
     * @param cols           its columns
     * @param dtype          the precision the matrix was computed in
     * @param tol            the tolerance rule
     * @return the rank with tolerance, ladder and gap
     */
    public static RankReport ofSingularValues(double[] singularValues, int rows, int cols, DType dtype,
                                              Tolerance tol) {
        double[] s = singularValues.clone();
        for (double x : s) {
            if (!(x >= 0) || x == Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("singular values must be finite and non-negative, got " + x);
            }
        }
        Arrays.sort(s);
        // Descending.
        for (int i = 0, j = s.length - 1; i < j; i++, j--) {
            double t = s[i];
            s[i] = s[j];
            s[j] = t;
        }
        double sigmaMax = s.length == 0 ? 0 : s[0];
        Tolerance t = tol == null ? Tolerance.DEFAULT : tol;
        double tau = t.threshold(sigmaMax, rows, cols, dtype);
        int rank = countAbove(s, tau);
        Map<String, Integer> ladder = new LinkedHashMap<>();
        for (int i = 0; i < LADDER.length; i++) {
            ladder.put(LADDER_KEYS[i], countAbove(s, LADDER[i] * sigmaMax));
        }
        double kept = rank > 0 ? s[rank - 1] : Double.NaN;
        double dropped = rank < s.length ? s[rank] : Double.NaN;
        double gap;
        if (rank == 0) {
            gap = Double.NaN;
        } else if (rank == s.length || dropped == 0) {
            gap = Double.POSITIVE_INFINITY;
        } else {
            gap = kept / dropped;
        }
        return new RankReport(rank, rows, cols, tau, t.spec(), sigmaMax, ladder, gap, kept, dropped);
    }

    /** Number of entries of the descending array {@code s} strictly above {@code tau}. */
    private static int countAbove(double[] s, double tau) {
        int c = 0;
        while (c < s.length && s[c] > tau) {
            c++;
        }
        return c;
    }
}
