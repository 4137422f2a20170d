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

    /** Parses {@code "d,h1,...,K"}. */
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

    /** Number of weight matrices L. */
    public int layers() {
        return widths.length - 1;
    }

    /** {@code M_l}: {@code width(0)} is the input dimension, {@code width(layers())} the output dimension. */
    public int width(int l) {
        return widths[l];
    }

    public int[] widths() {
        return widths.clone();
    }

    public int inputs() {
        return widths[0];
    }

    public int outputs() {
        return widths[widths.length - 1];
    }

    public Activation activation() {
        return activation;
    }

    public boolean hasBias() {
        return bias;
    }

    /** Total parameter count P. */
    public int parameterCount() {
        return (int) parameterCount;
    }

    /** Offset of {@code W_l} (layer index {@code l} from 0) in the flat vector. */
    public int weightOffset(int l) {
        return (int) weightOffset[l];
    }

    /** Offset of {@code b_l}; only meaningful with biases. */
    public int biasOffset(int l) {
        return (int) biasOffset[l];
    }

    /** Parameters of layer {@code l} (weight and bias). */
    public int layerParameterCount(int l) {
        return widths[l] * widths[l + 1] + (bias ? widths[l + 1] : 0);
    }

    /** Offset of layer {@code l}'s first parameter. */
    public int layerOffset(int l) {
        return (int) weightOffset[l];
    }

    /** The architecture as {@code "d,h1,...,K"}. */
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
