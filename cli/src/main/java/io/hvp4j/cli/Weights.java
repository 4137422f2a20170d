package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.io.SafeTensors;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads the parameters of an {@link Mlp} from a PyTorch {@code nn.Sequential} state_dict saved as safetensors:
 * tensors {@code <index>.weight} of shape (out, in) and {@code <index>.bias} of shape (out), one index per Linear
 * module. Indices need not be consecutive (activations sit between the Linear modules); they are taken in
 * numeric order. Every tensor of the file must be one of these, and their number and shapes must match the
 * architecture and the bias setting exactly.
 */
final class Weights {
    private static final Pattern NAME = Pattern.compile("(\\d{1,9})\\.(weight|bias)");

    private Weights() {
    }

    /** The flat parameter vector (P × 1, {@code dtype}) in {@code arena}. */
    static Tensor load(Path file, Mlp mlp, DType dtype, Arena arena) {
        SafeTensors st = SafeTensors.read(file, arena);
        TreeMap<Integer, String[]> modules = new TreeMap<>(); // index -> {weight name, bias name}
        for (String name : st.names()) {
            Matcher m = NAME.matcher(name);
            if (!m.matches()) {
                throw new InvalidInputException(file + ": unexpected tensor '" + printable(name)
                        + "' (expected only <index>.weight and <index>.bias of nn.Sequential Linear layers)");
            }
            int index = Integer.parseInt(m.group(1));
            String[] pair = modules.computeIfAbsent(index, i -> new String[2]);
            int slot = m.group(2).equals("weight") ? 0 : 1;
            if (pair[slot] != null) {
                throw new InvalidInputException(file + ": tensors '" + printable(pair[slot]) + "' and '"
                        + printable(name) + "' name the same parameter");
            }
            pair[slot] = name;
        }
        int layers = mlp.layers();
        String arch = "--arch " + mlp.architecture();
        if (modules.size() != layers) {
            throw new InvalidInputException(file + ": has " + modules.size() + " Linear layer(s) (indices "
                    + modules.keySet() + ") but " + arch + " has " + layers);
        }
        Tensor theta = Tensor.allocate(arena, dtype, mlp.parameterCount(), 1);
        int l = 0;
        for (Map.Entry<Integer, String[]> e : modules.entrySet()) {
            String wName = e.getValue()[0], bName = e.getValue()[1];
            int in = mlp.width(l), out = mlp.width(l + 1);
            if (wName == null) {
                throw new InvalidInputException(file + ": '" + e.getKey() + ".bias' has no '" + e.getKey()
                        + ".weight'");
            }
            long[] ws = st.shape(wName);
            if (ws.length != 2 || ws[0] != out || ws[1] != in) {
                throw new InvalidInputException(file + ": tensor '" + wName + "' has shape " + Arrays.toString(ws)
                        + " but layer " + l + " of " + arch + " needs [" + out + ", " + in + "] (out, in)");
            }
            if (mlp.hasBias() && bName == null) {
                throw new InvalidInputException(file + ": no '" + e.getKey() + ".bias' for layer " + l
                        + " (use --no-bias for a network without biases)");
            }
            if (!mlp.hasBias() && bName != null) {
                throw new InvalidInputException(file + ": has bias '" + bName + "' but --no-bias was given");
            }
            theta.view(mlp.weightOffset(l), out, in).copyFrom(st.tensor(wName, dtype));
            if (bName != null) {
                long[] bs = st.shape(bName);
                if (bs.length != 1 || bs[0] != out) {
                    throw new InvalidInputException(file + ": tensor '" + bName + "' has shape "
                            + Arrays.toString(bs) + " but layer " + l + " of " + arch + " needs [" + out + "]");
                }
                theta.view(mlp.biasOffset(l), out, 1).copyFrom(st.tensor(bName, dtype));
            }
            l++;
        }
        return theta;
    }

    /**
     * Writes {@code theta} (P elements) as a PyTorch {@code nn.Sequential} state_dict: Linear layer l is module
     * {@code 2l} (an activation sits between), {@code 2l.weight} of shape (out, in) and {@code 2l.bias} of shape
     * (out), in the tensor's dtype; atomically.
     */
    static void save(Path file, Mlp mlp, Tensor theta) {
        Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
        Map<String, long[]> shapes = new java.util.HashMap<>();
        for (int l = 0; l < mlp.layers(); l++) {
            int in = mlp.width(l), out = mlp.width(l + 1);
            tensors.put(2 * l + ".weight", theta.view(mlp.weightOffset(l), out, in));
            if (mlp.hasBias()) {
                tensors.put(2 * l + ".bias", theta.view(mlp.biasOffset(l), 1, out));
                shapes.put(2 * l + ".bias", new long[] {out});
            }
        }
        SafeTensors.write(file, tensors, shapes);
    }

    static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 60; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return s.length() > 60 ? sb + "..." : sb.toString();
    }
}
