package io.hvp4j.objective;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.ForwardOverReverse;
import io.hvp4j.model.Mlp;

import java.util.ArrayList;
import java.util.List;

/**
 * The loss of an MLP over a whole data set (an {@link io.hvp4j.objective.Objective}; batching as in
 * {@link BatchedObjective}), on the MLP engine {@link ForwardOverReverse}. The layerwise groups are the layers, named as the {@code Linear} modules of the equivalent
 * {@code nn.Sequential} ({@code 0}, {@code 2}, ...).
 *
 * <p>Vectors are {@code n × k} row-major tensors (column j = vector j), {@code n = P} or a layer's parameter
 * count; any dtype (converted). Not thread-safe. Owns its working memory; {@link #close} frees it.
 */
public final class MlpObjective extends BatchedObjective {
    private final Mlp mlp;
    private final ForwardOverReverse engine;
    private final List<ParameterGroup> groups;

    /**
     * The loss of {@code mlp} over {@code data}; set the parameters before the first call.
     *
     * @param mlp       the network
     * @param loss      the loss per sample
     * @param reduction mean or sum over the samples
     * @param data      the data set in {@code dtype} (the caller's; it must outlive the objective)
     * @param backend   the kernels (the caller's)
     * @param dtype     the precision
     * @param batchSize rows per batch (bounds the working memory)
     * @param maxBlock  most vectors per product
     * @throws InvalidInputException when data and network do not fit together
     */
    public MlpObjective(Mlp mlp, Loss loss, Loss.Reduction reduction, Dataset data, Backend backend, DType dtype,
                        int batchSize, int maxBlock) {
        super(checked(mlp, loss, data), loss, reduction, backend, dtype, batchSize);
        this.mlp = mlp;
        this.engine = new ForwardOverReverse(mlp, loss, backend, dtype, this.batchSize, maxBlock);
        engine(this.engine);
        this.groups = layers(mlp);
    }

    /**
     * Bytes of working memory the engine of an objective with these arguments allocates (primal and tangent
     * buffers for one batch), computed without allocating, so that a caller can refuse a job that would not fit.
     * Parameters, data and the caller's vectors are not included.
     *
     * @param mlp       the network
     * @param dtype     the objective's dtype
     * @param batchRows rows per batch
     * @param maxBlock  most vectors per block product
     * @return the working bytes
     */
    public static long estimateWorkingBytes(Mlp mlp, DType dtype, int batchRows, int maxBlock) {
        return ForwardOverReverse.estimateWorkingBytes(mlp, dtype, batchRows, maxBlock);
    }

    /**
     * The layers of an MLP as parameter groups.
     *
     * @param mlp the network
     * @return one group per layer (weight and bias), named as the Linear modules of {@code nn.Sequential}
     */
    public static List<ParameterGroup> layers(Mlp mlp) {
        List<ParameterGroup> gs = new ArrayList<>();
        int per = mlp.hasBias() ? 2 : 1;
        for (int l = 0; l < mlp.layers(); l++) {
            int[] members = mlp.hasBias() ? new int[] {per * l, per * l + 1} : new int[] {l};
            gs.add(new ParameterGroup(String.valueOf(2 * l), members, mlp.layerOffset(l), mlp.layerParameterCount(l)));
        }
        return List.copyOf(gs);
    }

    private static Dataset checked(Mlp mlp, Loss loss, Dataset data) {
        if (data.inputDimension() != mlp.inputs() || data.outputDimension() != mlp.outputs()) {
            throw new InvalidInputException("data has " + data.inputDimension() + " inputs and "
                    + data.outputDimension() + " outputs but the network is " + mlp.architecture());
        }
        if (loss == Loss.CE) {
            if (mlp.outputs() < 2) {
                throw new InvalidInputException("ce needs at least 2 outputs, the network has " + mlp.outputs());
            }
            Dataset.requireProbabilities(data.targets(), "targets");
        }
        return data;
    }

    /**
     * The network.
     *
     * @return the MLP
     */
    public Mlp mlp() {
        return mlp;
    }

    @Override
    public int parameterCount() {
        return mlp.parameterCount();
    }

    @Override
    public List<ParameterGroup> groups() {
        return groups;
    }

    /**
     * One layer's group.
     *
     * @param layer the 0-based layer
     * @return its parameter group
     */
    public ParameterGroup layer(int layer) {
        return groups.get(layer);
    }

    /**
     * {@code out = C·V} for the whole data set. {@code layer < 0} for the full parameter vector, else the
     * 0-based layer whose block {@code C_ll} is applied ({@code V}, {@code out}: that layer's parameter count of
     * rows, weight then bias). {@code V} and {@code out} are {@code n × k} with {@code k ≤ maxBlock()}, not
     * overlapping (an overlap throws {@link IllegalArgumentException}).
     *
     * @param curvature {@code H}, {@code H_O} or {@code H_F}
     * @param layer     a 0-based layer, or negative for all parameters
     * @param v         the vectors, as columns
     * @param out       receives the products
     */
    public void apply(Curvature curvature, int layer, Tensor v, Tensor out) {
        if (layer >= mlp.layers()) {
            throw new IllegalArgumentException("layer " + layer + " out of range: the network has " + mlp.layers()
                    + " layers");
        }
        apply(curvature, layer < 0 ? null : groups.get(layer), v, out);
    }

    @Override
    protected void engineProduct(Curvature c, ParameterGroup group, Tensor v, Tensor out) {
        int layer = group == null ? -1 : groups.indexOf(group);
        if (group != null && layer < 0) {
            throw new IllegalArgumentException(group + " is not a layer of " + mlp.architecture());
        }
        engine.product(c, layer, v, out);
    }

    @Override
    protected String modelDescription() {
        return mlp.architecture() + "; act=" + mlp.activation().id() + "; bias=" + mlp.hasBias();
    }

    @Override
    protected String modelName() {
        return mlp.architecture();
    }
}
