package io.hvp4j.spectral;

import java.util.Map;

/**
 * The numerical rank of a matrix from its singular values (for a symmetric matrix, |eigenvalues|).
 *
 * @param rank        number of singular values strictly above {@code tolerance}
 * @param rows        rows of the matrix (its dimension n when square)
 * @param cols        columns of the matrix
 * @param tolerance   the absolute threshold τ used
 * @param toleranceSpec how τ was chosen: {@code "default"}, {@code "rel:X"} or {@code "abs:X"}
 * @param sigmaMax    the largest singular value
 * @param ladder      counts of singular values above {@code t·σ_max} for each relative threshold
 *                    {@link NumericalRank#LADDER} (keys as written there, e.g. {@code "1e-12"}), in that order
 * @param gap         {@code σ_r / σ_{r+1}} at the cut: {@code +∞} when {@code r = min(rows, cols)} or
 *                    {@code σ_{r+1} = 0}; NaN when {@code r = 0}
 * @param sigmaLastKept   {@code σ_r} (NaN when r = 0)
 * @param sigmaFirstDropped {@code σ_{r+1}} (NaN when nothing is dropped)
 */
public record RankReport(int rank, int rows, int cols, double tolerance, String toleranceSpec, double sigmaMax,
                         Map<String, Integer> ladder, double gap, double sigmaLastKept, double sigmaFirstDropped) {
    /** Copies {@code ladder} (unmodifiable, in order). */
    public RankReport {
        ladder = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(ladder));
    }
}
