package io.hvp4j.cli;

import io.hvp4j.io.SafeTensors;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import java.nio.file.Path;
import java.util.Map;

/** Writing weights for PyTorch (reading is {@link io.hvp4j.io.ModelWeights}). */
final class Weights {
    private Weights() {
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
}
