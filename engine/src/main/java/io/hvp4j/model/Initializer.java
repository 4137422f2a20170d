package io.hvp4j.model;

import io.hvp4j.InvalidInputException;
import java.util.Arrays;
import java.util.Locale;
import io.hvp4j.random.Rng;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Weight initializers. Biases start at zero (or N(0, s²) on request) for every scheme except
 * {@code UNIFORM_POSITIVE}, which draws them like its weights. All are deterministic for a seed: layer {@code l} uses the stream
 * {@code SplittableRandom(seed).split()} taken {@code l+1} times, so changing one layer's width does not
 * change the others' draws.
 */
public enum Initializer {
    /** N(0, 2/(fan_in + fan_out)). */
    GLOROT_NORMAL,
    /** U(−a, a), a = √(6/(fan_in + fan_out)). */
    GLOROT_UNIFORM,
    /** N(0, 2/fan_in). */
    HE_NORMAL,
    /** Rows (or columns, whichever are fewer) orthonormal: the Q factor of a Gaussian matrix. */
    ORTHOGONAL,
    /** U[0, 1)/fan_in, all positive (the "uniform" init of Singh et al.'s code). */
    UNIFORM_POSITIVE;

    /**
     * Draws parameters with zero biases.
     *
     * @param mlp  the network
     * @param seed the seed
     * @return a fresh vector of {@code mlp.parameterCount()} values in the flat layout
     */
    public double[] initialize(Mlp mlp, long seed) {
        return initialize(mlp, seed, 0);
    }

    /**
     * As {@link #initialize(Mlp, long)}, but biases (when the network has them, for every scheme except
     * {@code UNIFORM_POSITIVE}) are drawn from N(0, biasStd²) from the layer's stream after its weights
     * (docs/theory.md §B.3 uses 0.1). {@code biasStd = 0} gives zero biases and the same weights bit for bit.
     *
     * @param mlp     the network
     * @param seed    the seed
     * @param biasStd the biases' standard deviation, finite and non-negative
     * @return a fresh vector of {@code mlp.parameterCount()} values in the flat layout
     */
    public double[] initialize(Mlp mlp, long seed, double biasStd) {
        if (!(biasStd >= 0) || Double.isInfinite(biasStd)) {
            throw new InvalidInputException("bias standard deviation must be finite and non-negative, got " + biasStd);
        }
        double[] theta = new double[mlp.parameterCount()];
        SplittableRandom root = new SplittableRandom(seed);
        for (int l = 0; l < mlp.layers(); l++) {
            SplittableRandom rng = root.split();
            int in = mlp.width(l), out = mlp.width(l + 1);
            int w0 = mlp.weightOffset(l);
            switch (this) {
                case GLOROT_NORMAL -> fillNormal(rng, theta, w0, in * out, Math.sqrt(2.0 / (in + out)));
                case HE_NORMAL -> fillNormal(rng, theta, w0, in * out, Math.sqrt(2.0 / in));
                case GLOROT_UNIFORM -> {
                    double a = Math.sqrt(6.0 / (in + out));
                    for (int i = 0; i < in * out; i++) theta[w0 + i] = rng.nextDouble(-a, a);
                }
                case UNIFORM_POSITIVE -> {
                    for (int i = 0; i < in * out; i++) theta[w0 + i] = rng.nextDouble() / in;
                    if (mlp.hasBias()) {
                        for (int i = 0; i < out; i++) theta[mlp.biasOffset(l) + i] = rng.nextDouble() / in;
                    }
                }
                case ORTHOGONAL -> orthogonal(rng, theta, w0, out, in);
            }
            if (biasStd > 0 && mlp.hasBias() && this != UNIFORM_POSITIVE) {
                fillNormal(rng, theta, mlp.biasOffset(l), out, biasStd);
            }
        }
        return theta;
    }

    private static void fillNormal(SplittableRandom rng, double[] a, int off, int n, double std) {
        for (int i = 0; i < n; i++) a[off + i] = std * Rng.gaussian(rng);
    }


    /** Gram–Schmidt (twice, for stability) on the shorter side of a Gaussian {@code rows × cols} matrix. */
    private static void orthogonal(SplittableRandom rng, double[] theta, int off, int rows, int cols) {
        boolean byRows = rows <= cols;
        int count = byRows ? rows : cols, len = byRows ? cols : rows;
        double[][] v = new double[count][len];
        for (double[] row : v) for (int i = 0; i < len; i++) row[i] = Rng.gaussian(rng);
        for (int a = 0; a < count; a++) {
            for (int pass = 0; pass < 2; pass++) {
                for (int b = 0; b < a; b++) {
                    double d = 0;
                    for (int i = 0; i < len; i++) d += v[a][i] * v[b][i];
                    for (int i = 0; i < len; i++) v[a][i] -= d * v[b][i];
                }
            }
            double n = 0;
            for (int i = 0; i < len; i++) n += v[a][i] * v[a][i];
            n = Math.sqrt(n);
            for (int i = 0; i < len; i++) v[a][i] /= n;
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                theta[off + r * cols + c] = byRows ? v[r][c] : v[c][r];
            }
        }
    }

    /**
     * The name in options.
     *
     * @return e.g. {@code glorot-normal}
     */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Parses an initializer name.
     *
     * @param s an {@link #id()} or constant name (any case)
     * @return the initializer
     * @throws InvalidInputException for an unknown name
     */
    public static Initializer parse(String s) {
        for (Initializer i : values()) {
            if (i.id().equalsIgnoreCase(s) || i.name().equalsIgnoreCase(s)) {
                return i;
            }
        }
        throw new InvalidInputException("unknown init '" + s + "' (expected one of "
                + Arrays.stream(values()).map(Initializer::id).collect(Collectors.joining(", ")) + ")");
    }
}
