package io.hvp4j.autodiff;

import io.hvp4j.InvalidInputException;

import io.hvp4j.backend.ElementwiseFunction;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Every activation a graph node may use, by name: the MLP set ({@link Activation}: identity, relu, leaky_relu,
 * tanh, sigmoid, softplus, gelu = tanh form), {@link SmoothActivation} (silu, erf, gelu_erf), and
 * {@link ParametricActivation} ({@code leaky_relu(α)}, {@code elu}, {@code elu(α)}). {@code gelu_tanh} names the
 * tanh form too.
 */
public final class Activations {
    private Activations() {
    }

    private static final Pattern PARAMETRIC = Pattern.compile("(leaky_relu|elu)\\(([^)]*)\\)");

    /**
     * Parses an activation name, with a parameter where the activation takes one.
     *
     * @param s a name such as {@code relu}, {@code gelu_erf}, {@code elu}, {@code leaky_relu(0.2)} or
     *          {@code elu(0.5)}
     * @return the activation
     * @throws io.hvp4j.InvalidInputException for an unknown name or a bad parameter
     */
    public static ElementwiseFunction parse(String s) {
        String key = s.trim().toLowerCase(Locale.ROOT).replace('-', '_').replace(" ", "");
        Matcher m = PARAMETRIC.matcher(key);
        if (m.matches()) {
            double alpha;
            try {
                alpha = Double.parseDouble(m.group(2));
            } catch (NumberFormatException e) {
                throw new InvalidInputException("activation '" + s + "': alpha '" + m.group(2) + "' is not a number");
            }
            return m.group(1).equals("elu") ? ParametricActivation.elu(alpha) : ParametricActivation.leakyRelu(alpha);
        }
        switch (key) {
            case "elu":
                return ParametricActivation.elu(1);
            case "gelu_tanh":
                return Activation.GELU;
            default:
                break;
        }
        for (SmoothActivation a : SmoothActivation.values()) {
            if (a.id().equals(key)) {
                return a;
            }
        }
        try {
            return Activation.parse(key);
        } catch (InvalidInputException e) {
            throw new InvalidInputException("unknown activation '" + s + "' (expected one of " + Stream.concat(
                    Arrays.stream(Activation.values()).map(Activation::id),
                    Stream.concat(Arrays.stream(SmoothActivation.values()).map(SmoothActivation::id),
                            Stream.of("gelu_tanh", "elu", "elu(α)", "leaky_relu(α)")))
                    .collect(Collectors.joining(", ")) + ")");
        }
    }
}
