package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.GraphVectors;
import io.hvp4j.io.Npy;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.ParameterGroup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Vectors over the parameters in files: {@code .npy} flat ({@code (n,)} or {@code (n, k)}, rows in the flat
 * parameter order), or, with {@code --model}, {@code .safetensors} keyed by parameter name
 * ({@link GraphVectors}: each parameter in its own shape, {@code (k, ...)} for k vectors).
 */
final class VectorFiles {
    private VectorFiles() {
    }

    static boolean named(Path file) {
        return file.getFileName() != null
                && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors");
    }

    /**
     * Refuses, before any work, a {@code file} for {@code option} whose extension is neither {@code .npy} nor
     * {@code .safetensors} (a name without one, such as {@code /dev/stdout}, is {@code .npy}), and a name-keyed one
     * when there is no graph model.
     */
    static void check(Path file, ModelOptions m, String option) {
        String name = file == null || file.getFileName() == null ? "" : file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        if (dot > 0 && !named(file) && !name.toLowerCase(Locale.ROOT).endsWith(".npy")) {
            throw new InvalidInputException(option + " " + file + ": vectors are .npy files"
                    + (m.modelName == null ? "" : " (or .safetensors by parameter name)") + ", not "
                    + name.substring(dot) + "; name the file .npy");
        }
        if (file != null && named(file) && m.modelName == null) {
            throw new InvalidInputException(option + " " + file + ": vectors by parameter name (.safetensors) need"
                    + " --model; with --arch use .npy");
        }
    }

    /** The parameters of {@code block} (all of them when null), in flat order; refuses MLPs. */
    static List<Value> parameters(Problem p, ParameterGroup block, Path file) {
        if (p.graph == null) {
            throw new InvalidInputException(file + ": vectors by parameter name (.safetensors) need --model; with"
                    + " --arch use .npy");
        }
        if (block == null) {
            return p.graph.parameters();
        }
        List<Value> ps = new ArrayList<>();
        for (int m : block.members()) {
            ps.add(p.graph.parameters().get(m));
        }
        return ps;
    }

    /** Reads the vectors of {@code block}'s parameters (all when null) from a name-keyed file. */
    static Tensor readNamed(Path file, Problem p, ParameterGroup block) {
        return GraphVectors.read(file, parameters(p, block, file), p.dtype, p.arena);
    }

    /**
     * Writes {@code v} ({@code n × k}): by name when {@code file} ends in {@code .safetensors} ({@code n} the size
     * of {@code block}, or of all parameters when null), else as {@code .npy} ({@code (n,)} when
     * {@code oneDimensional}).
     */
    static void write(Path file, Problem p, ParameterGroup block, Tensor v, boolean oneDimensional) {
        if (named(file)) {
            GraphVectors.write(file, parameters(p, block, file), v, !oneDimensional);
        } else {
            Npy.write(file, v, oneDimensional);
        }
    }
}
