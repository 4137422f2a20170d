package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.io.SafeTensors;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Vectors over a graph's parameters as {@code .safetensors} files keyed by parameter name, as PyTorch keeps them
 * ({@code {name: tensor}} like a {@code state_dict} or the {@code .grad} of each parameter). One vector stores each
 * parameter in its own shape; {@code k} vectors (eigenvectors, a block of directions) store each parameter as
 * {@code (k, *shape)}. In memory the vectors are the usual {@code n × k} block in flat order over
 * {@code params} (all parameters, or a selection, in flat order).
 */
public final class GraphVectors {
    private GraphVectors() {
    }

    /**
     * Reads vectors over some parameters; every name must match exactly.
     *
     * @param file   a {@code .safetensors} file
     * @param params the parameters, in flat order
     * @param dtype  the result's dtype
     * @param arena  owns the result
     * @return V, {@code n × k} with n the size of {@code params}
     */
    public static Tensor read(Path file, List<Value> params, DType dtype, Arena arena) {
        try (Arena tmp = Arena.ofConfined()) {
            SafeTensors s = SafeTensors.read(file, tmp);
            Set<String> wanted = new HashSet<>();
            for (Value p : params) {
                wanted.add(p.name());
            }
            for (String name : s.names()) {
                if (!wanted.contains(name)) {
                    throw new InvalidInputException(file + ": tensor '" + name.replaceAll("\\p{Cntrl}", "?")
                            + "' is not a parameter" + (params.size() < 20 ? " (expected " + names(params) + ")"
                            : ""));
                }
            }
            int n = 0, k = -1;
            for (Value p : params) {
                if (!s.contains(p.name())) {
                    throw new InvalidInputException(file + ": no tensor '" + p.name() + "' (every parameter needs"
                            + " one)");
                }
                long[] shape = s.shape(p.name());
                long[] own = Arrays.stream(p.shape().dims()).asLongStream().toArray();
                int kp;
                if (Arrays.equals(shape, own)) {
                    kp = 1;
                } else if (shape.length == own.length + 1 && Arrays.equals(Arrays.copyOfRange(shape, 1,
                        shape.length), own) && shape[0] >= 1 && shape[0] <= Integer.MAX_VALUE - 8) {
                    kp = (int) shape[0];
                } else {
                    throw new InvalidInputException(file + ": tensor '" + p.name() + "' has shape "
                            + Arrays.toString(shape) + "; the parameter's shape is " + Arrays.toString(own)
                            + " (or (k, ...) for k vectors)");
                }
                if (k >= 0 && kp != k) {
                    throw new InvalidInputException(file + ": tensor '" + p.name() + "' holds " + kp
                            + " vector(s), the others " + k);
                }
                k = kp;
                n = Math.addExact(n, p.shape().intSize());
            }
            Tensor v = Tensor.allocate(arena, dtype, n, k);
            int off = 0;
            for (Value p : params) {
                int size = p.shape().intSize();
                Tensor t = s.tensor(p.name(), DType.F64);
                for (int j = 0; j < k; j++) {
                    for (int i = 0; i < size; i++) {
                        double x = t.get((long) j * size + i);
                        if (!Double.isFinite(x)) {
                            throw new InvalidInputException(file + ": tensor '" + p.name() + "' holds " + x
                                    + " (vectors must be finite)");
                        }
                        v.set(off + i, j, x);
                    }
                }
                off += size;
            }
            return v;
        }
    }

    /**
     * Writes vectors over some parameters, atomically.
     *
     * @param file    the file to write
     * @param params  the parameters, in flat order
     * @param v       {@code n × k} over {@code params}
     * @param stacked keep a leading axis of size k even when k = 1
     */
    public static void write(Path file, List<Value> params, Tensor v, boolean stacked) {
        int k = v.cols();
        try (Arena tmp = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            int off = 0;
            for (Value p : params) {
                int size = p.shape().intSize();
                Tensor t = Tensor.allocate(tmp, v.dtype(), k, size);
                for (int j = 0; j < k; j++) {
                    for (int i = 0; i < size; i++) {
                        t.set(j, i, v.get(off + i, j));
                    }
                }
                long[] own = Arrays.stream(p.shape().dims()).asLongStream().toArray();
                long[] shape = own;
                if (k > 1 || stacked) {
                    shape = new long[own.length + 1];
                    shape[0] = k;
                    System.arraycopy(own, 0, shape, 1, own.length);
                }
                tensors.put(p.name(), t);
                shapes.put(p.name(), shape);
                off += size;
            }
            if (off != v.rows()) {
                throw new IllegalArgumentException(v.rows() + " rows for parameters of " + off + " elements");
            }
            SafeTensors.write(file, tensors, shapes);
        }
    }

    private static String names(List<Value> params) {
        return params.stream().map(Value::name).toList().toString();
    }
}
