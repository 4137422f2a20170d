package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads the parameters of an {@link Mlp} (the flat vector in PyTorch {@code state_dict} order: layer by layer,
 * weight {@code (out, in)} row-major, then bias {@code (out)}) from a weight file, chosen by its extension:
 * <ul>
 *   <li>{@code .safetensors}: a PyTorch {@code nn.Sequential} state_dict ({@code safetensors.torch.save_file}):
 *       tensors {@code <index>.weight} (out, in) and {@code <index>.bias} (out,), one index per Linear module.
 *       Indices need not be consecutive (activations sit between Linear modules); they are taken in numeric
 *       order. F32, F64, F16 and BF16 are converted to the working dtype.</li>
 *   <li>{@code .npz}: the same names ({@code numpy.savez(f, **{k: v.numpy() for k, v in sd.items()})}), or the
 *       unnamed arrays {@code arr_0, arr_1, ...} of {@code numpy.savez(f, W0, b0, W1, b1, ...)} in state_dict
 *       order (weights only with {@code bias = false}).</li>
 *   <li>{@code .npy}: the flat vector itself, shape {@code (P,)} or {@code (P, 1)}, e.g.
 *       {@code torch.nn.utils.parameters_to_vector(model.parameters()).numpy()}.</li>
 * </ul>
 * Every array of the file must be used, and the count and shapes must match the architecture and the bias
 * setting exactly; NaN/Inf is rejected. Every problem is an {@link InvalidInputException} naming the file.
 */
public final class ModelWeights {
    private static final Pattern NAME = Pattern.compile("(\\d{1,9})\\.(weight|bias)");
    private static final Pattern UNNAMED = Pattern.compile("arr_(\\d{1,9})");

    private ModelWeights() {
    }

    /** Named arrays of a weight file ({@link #named}). */
    public interface Source {
        /**
         * The arrays.
         *
         * @return their names, in file order
         */
        List<String> names();

        /**
         * One array's shape.
         *
         * @param name the array's name
         * @return its shape
         */
        long[] shape(String name);

        /**
         * One array's values.
         *
         * @param name  the array's name
         * @param dtype the result's dtype
         * @return the array converted to {@code dtype}, as a matrix of its first axis by the rest
         */
        Tensor tensor(String name, DType dtype);
    }

    /**
     * The named arrays of a {@code .safetensors} or {@code .npz} file (read and checked whole), for loaders of
     * models that address parameters by name.
     *
     * @param file  the file
     * @param arena owns the arrays
     * @return its arrays by name
     * @throws InvalidInputException for a malformed file
     */
    public static Source named(Path file, Arena arena) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npz")) {
            Map<String, NpyArray> arrays = Npz.read(file, arena);
            return new Source() {
                public List<String> names() {
                    return List.copyOf(arrays.keySet());
                }

                public long[] shape(String n) {
                    return arrays.get(n).shape();
                }

                public Tensor tensor(String n, DType d) {
                    return Npy.toMatrix(arrays.get(n), arena, d, file + ": array '" + Json.printable(n) + "'");
                }
            };
        }
        if (name.endsWith(".safetensors")) {
            SafeTensors st = SafeTensors.read(file, arena);
            return new Source() {
                public List<String> names() {
                    return List.copyOf(st.names());
                }

                public long[] shape(String n) {
                    return st.shape(n);
                }

                public Tensor tensor(String n, DType d) {
                    return st.tensor(n, d);
                }
            };
        }
        throw new InvalidInputException(file + ": unknown weight file type (expected .safetensors, .npz or .npy)");
    }

    /**
     * The flat parameter vector of an MLP from a weights file.
     *
     * @param file  a {@code .safetensors}, {@code .npz} or flat {@code .npy} file
     * @param mlp   the network
     * @param dtype the result's dtype
     * @param arena owns the result
     * @return θ, {@code P × 1}
     * @throws InvalidInputException on any problem with the file or a mismatch with {@code mlp}
     */
    public static Tensor load(Path file, Mlp mlp, DType dtype, Arena arena) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(mlp, "mlp");
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npy")) {
            Tensor t = Npy.readMatrix(file, arena, dtype, "flat parameter vector");
            if (t.cols() != 1 || t.rows() != mlp.parameterCount()) {
                throw new InvalidInputException(file + ": a flat parameter vector must have shape ("
                        + mlp.parameterCount() + ",) for --arch " + mlp.architecture() + (mlp.hasBias() ? "" : " --no-bias")
                        + ", got " + t.rows() + (t.cols() == 1 ? "" : " × " + t.cols()));
            }
            return t;
        }
        return fromNamed(file, mlp, dtype, arena, named(file, arena));
    }

    private static Tensor fromNamed(Path file, Mlp mlp, DType dtype, Arena arena, Source src) {
        List<String> names = src.names();
        boolean unnamed = !names.isEmpty() && names.stream().allMatch(n -> UNNAMED.matcher(n).matches());
        TreeMap<Integer, String[]> modules = new TreeMap<>(); // index -> {weight name, bias name}
        if (unnamed) {
            int per = mlp.hasBias() ? 2 : 1;
            if (names.size() != per * mlp.layers()) {
                throw new InvalidInputException(file + ": has " + names.size() + " unnamed arrays (arr_0, ...) but"
                        + " --arch " + mlp.architecture() + (mlp.hasBias() ? " with biases needs " : " --no-bias needs ")
                        + per * mlp.layers() + " (" + (mlp.hasBias() ? "W0, b0, W1, b1, ..." : "W0, W1, ...") + ")");
            }
            for (int l = 0; l < mlp.layers(); l++) {
                modules.put(l, new String[] {"arr_" + per * l, mlp.hasBias() ? "arr_" + (per * l + 1) : null});
            }
            for (String[] pair : modules.values()) {
                for (String n : pair) {
                    if (n != null && !names.contains(n)) {
                        throw new InvalidInputException(file + ": unnamed arrays must be arr_0 ... arr_"
                                + (names.size() - 1) + "; '" + n + "' is missing");
                    }
                }
            }
        } else {
            for (String name : names) {
                Matcher m = NAME.matcher(name);
                if (!m.matches()) {
                    throw new InvalidInputException(file + ": unexpected tensor '" + Json.printable(name)
                            + "' (expected only <index>.weight and <index>.bias of nn.Sequential Linear layers)");
                }
                int index = Integer.parseInt(m.group(1));
                String[] pair = modules.computeIfAbsent(index, i -> new String[2]);
                int slot = m.group(2).equals("weight") ? 0 : 1;
                if (pair[slot] != null) {
                    throw new InvalidInputException(file + ": tensors '" + Json.printable(pair[slot]) + "' and '"
                            + Json.printable(name) + "' name the same parameter");
                }
                pair[slot] = name;
            }
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
            long[] ws = src.shape(wName);
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
            theta.view(mlp.weightOffset(l), out, in).copyFrom(src.tensor(wName, dtype));
            if (bName != null) {
                long[] bs = src.shape(bName);
                if (bs.length != 1 || bs[0] != out) {
                    throw new InvalidInputException(file + ": tensor '" + bName + "' has shape "
                            + Arrays.toString(bs) + " but layer " + l + " of " + arch + " needs [" + out + "]");
                }
                theta.view(mlp.biasOffset(l), out, 1).copyFrom(src.tensor(bName, dtype));
            }
            l++;
        }
        return theta;
    }

    /**
     * The names of the arrays a weight set for an MLP holds (for documentation and tools).
     *
     * @param mlp the network
     * @return {@code 0.weight}, {@code 0.bias}, {@code 2.weight}, ... in flat order
     */
    public static List<String> stateDictNames(Mlp mlp) {
        List<String> out = new ArrayList<>();
        for (int l = 0; l < mlp.layers(); l++) {
            out.add(2 * l + ".weight");
            if (mlp.hasBias()) {
                out.add(2 * l + ".bias");
            }
        }
        return out;
    }

    /**
     * Writes {@code theta} (P elements of {@code mlp}, host memory) as a PyTorch {@code nn.Sequential} state_dict in
     * safetensors: Linear layer l is module {@code 2l} (an activation sits between), {@code 2l.weight} of shape
     * (out, in) and {@code 2l.bias} of shape (out), in the tensor's dtype; atomically. {@link #load} reads it back.
     *
     * @param file  the safetensors file to write
     * @param mlp   the network
     * @param theta P values in flat order
     */
    public static void save(Path file, Mlp mlp, Tensor theta) {
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
}
