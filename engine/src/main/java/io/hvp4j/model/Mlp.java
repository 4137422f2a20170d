package io.hvp4j.model;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import java.util.Arrays;

/**
 * A fully connected network {@code nn.Sequential(Linear, act, Linear, act, ..., Linear)}: widths
 * {@code d = M_0, M_1, ..., M_L = K}, one activation between layers and none after the last.
 *
 * <p>Flat parameter layout = PyTorch {@code state_dict} / {@code parameters_to_vector} order: layer by layer,
 * the weight {@code W_l} of shape {@code (out, in) = (M_l, M_{l-1})} row-major, then (if present) the bias
 * {@code b_l} of {@code M_l} elements. Immutable and thread-safe.
 */
public final class Mlp {
    private final int[] widths;
    private final Activation activation;
    private final boolean bias;
    private final long[] weightOffset;
    private final long[] biasOffset;
    private final long parameterCount;

    /**
     * A network of the given widths.
     *
     * @param widths     {@code d, M_1, ..., K}, at least two, all positive (copied)
     * @param activation between layers
     * @param bias       whether every Linear has a bias
     * @throws InvalidInputException for bad widths or more than 2^31 parameters
     */
    public Mlp(int[] widths, Activation activation, boolean bias) {
        if (widths.length < 2) {
            throw new InvalidInputException("architecture needs at least an input and an output width, got "
                    + Arrays.toString(widths));
        }
        for (int w : widths) {
            if (w < 1) {
                throw new InvalidInputException("layer widths must be positive, got " + Arrays.toString(widths));
            }
        }
        this.widths = widths.clone();
        this.activation = activation;
        this.bias = bias;
        int layers = widths.length - 1;
        weightOffset = new long[layers];
        biasOffset = new long[layers];
        long p = 0;
        for (int l = 0; l < layers; l++) {
            weightOffset[l] = p;
            p += (long) widths[l] * widths[l + 1];
            biasOffset[l] = p;
            if (bias) {
                p += widths[l + 1];
            }
        }
        if (p > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("network has " + p + " parameters; at most 2^31 are supported");
        }
        parameterCount = p;
    }

    /**
     * Parses an architecture.
     *
     * @param arch {@code "d,h1,...,K"}
     * @return the widths
     * @throws InvalidInputException for anything but comma-separated integers
     */
    public static int[] parseArchitecture(String arch) {
        String[] parts = arch.split(",");
        int[] w = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                w[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new InvalidInputException("--arch must be comma-separated positive integers, got '" + arch + "'");
            }
        }
        return w;
    }

    /**
     * The depth.
     *
     * @return L, the number of weight matrices
     */
    public int layers() {
        return widths.length - 1;
    }

    /**
     * One width.
     *
     * @param l from 0 (the input) to {@link #layers()} (the output)
     * @return {@code M_l}
     */
    public int width(int l) {
        return widths[l];
    }

    /**
     * All widths.
     *
     * @return {@code d, M_1, ..., K} (a copy)
     */
    public int[] widths() {
        return widths.clone();
    }

    /**
     * The input dimension.
     *
     * @return d
     */
    public int inputs() {
        return widths[0];
    }

    /**
     * The output dimension.
     *
     * @return K
     */
    public int outputs() {
        return widths[widths.length - 1];
    }

    /**
     * The activation.
     *
     * @return the activation between layers
     */
    public Activation activation() {
        return activation;
    }

    /**
     * The biases.
     *
     * @return whether the layers have biases
     */
    public boolean hasBias() {
        return bias;
    }

    /**
     * The number of parameters.
     *
     * @return P
     */
    public int parameterCount() {
        return (int) parameterCount;
    }

    /**
     * Where a weight starts.
     *
     * @param l the layer, from 0
     * @return the offset of {@code W_l} in the flat vector
     */
    public int weightOffset(int l) {
        return (int) weightOffset[l];
    }

    /**
     * Where a bias starts (only meaningful with biases).
     *
     * @param l the layer, from 0
     * @return the offset of {@code b_l} in the flat vector
     */
    public int biasOffset(int l) {
        return (int) biasOffset[l];
    }

    /**
     * One layer's size.
     *
     * @param l the layer, from 0
     * @return its parameters (weight and bias)
     */
    public int layerParameterCount(int l) {
        return widths[l] * widths[l + 1] + (bias ? widths[l + 1] : 0);
    }

    /**
     * Where a layer starts.
     *
     * @param l the layer, from 0
     * @return the offset of its first parameter
     */
    public int layerOffset(int l) {
        return (int) weightOffset[l];
    }

    /**
     * The widths as text.
     *
     * @return {@code "d,h1,...,K"}
     */
    public String architecture() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < widths.length; i++) {
            sb.append(i == 0 ? "" : ",").append(widths[i]);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "Mlp[" + architecture() + ", " + activation.id() + (bias ? ", bias" : ", no bias") + ", P="
                + parameterCount + "]";
    }
}
