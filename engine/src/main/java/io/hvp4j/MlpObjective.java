package io.hvp4j;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.ForwardOverReverse;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;

/**
 * The loss of an MLP over a whole data set, {@code L(θ) = scale·Σ_i ℓ(f(x_i; θ), y_i)} with {@code scale = 1/N}
 * (mean) or 1 (sum), with its gradient and exact curvature products. The data set is processed in batches of
 * at most {@code batchSize} rows, in order; with more than one batch the per-batch results are added in
 * float64, batch by batch in order (deterministic for a fixed thread count). With one batch the primal pass is
 * computed once per parameter setting and shared by every product.
 *
 * <p>Vectors are {@code n × k} row-major tensors (column j = vector j), {@code n = P} or a layer's parameter
 * count; any dtype (converted). Not thread-safe. Owns its working memory; {@link #close} frees it.
 */
public final class MlpObjective implements AutoCloseable {
    private final Mlp mlp;
    private final Dataset data;
    private final double scale;
    private final ForwardOverReverse engine;
    private final int batchSize;
    private final Arena arena = Arena.ofShared();
    /** One batch of converted inputs when the data set is streamed, else null. */
    private final Tensor batchInputs;
    private boolean parametersSet;
    private int primalBatch = -1;

    public MlpObjective(Mlp mlp, Loss loss, Loss.Reduction reduction, Dataset data, Backend backend, DType dtype,
                        int batchSize, int maxBlock) {
        if (data.inputDimension() != mlp.inputs() || data.outputDimension() != mlp.outputs()) {
            throw new InvalidInputException("data has " + data.inputDimension() + " inputs and "
                    + data.outputDimension() + " outputs but the network is " + mlp.architecture());
        }
        if (data.dtype() != dtype) {
            throw new IllegalArgumentException("data dtype " + data.dtype() + " differs from " + dtype);
        }
        if (loss == Loss.CE) {
            if (mlp.outputs() < 2) {
                throw new InvalidInputException("ce needs at least 2 outputs, the network has " + mlp.outputs());
            }
            Dataset.requireProbabilities(data.targets(), "targets");
        }
        this.mlp = mlp;
        this.data = data;
        this.scale = reduction == Loss.Reduction.MEAN ? 1.0 / data.size() : 1.0;
        this.batchSize = Math.max(1, Math.min(batchSize, data.size()));
        this.engine = new ForwardOverReverse(mlp, loss, backend, dtype, this.batchSize, maxBlock);
        this.batchInputs = data.streamed() ? Tensor.allocate(arena, dtype, this.batchSize, mlp.inputs()) : null;
    }

    public Mlp mlp() {
        return mlp;
    }

    public DType dtype() {
        return engine.dtype();
    }

    public int parameterCount() {
        return mlp.parameterCount();
    }

    public int maxBlock() {
        return engine.maxBlock();
    }

    public int batches() {
        return (data.size() + batchSize - 1) / batchSize;
    }

    /** Sets θ (P elements); rejects NaN/Inf. */
    public void setParameters(Tensor theta) {
        if (theta.size() != mlp.parameterCount()) {
            throw new InvalidInputException("expected " + mlp.parameterCount() + " parameters for " + mlp.architecture()
                    + ", got " + theta.size());
        }
        long bad = theta.firstNonFinite();
        if (bad >= 0) {
            throw new InvalidInputException("parameters contain a non-finite value at index " + bad);
        }
        if (engine.dtype() == DType.F32) {
            // Checked on the host (the engine's copy may be device memory): Tensor.set rounds the same way.
            for (long i = 0, n = theta.size(); i < n; i++) {
                if (Float.isInfinite((float) theta.get(i))) {
                    parametersSet = false;
                    throw new InvalidInputException("parameter " + i + " (" + theta.get(i) + ") overflows " + engine.dtype());
                }
            }
        }
        engine.setParameters(theta);
        parametersSet = true;
        primalBatch = -1;
    }

    /** The engine's parameters (read only; a device tensor on a device backend). */
    public Tensor parameters() {
        return engine.parameters();
    }

    /** Forgets cached primal passes, so that the next product recomputes everything (for timing). */
    public void invalidate() {
        engine.invalidate();
        primalBatch = -1;
    }

    private void primal(int b, Tensor grad) {
        int from = b * batchSize, count = Math.min(batchSize, data.size() - from);
        engine.forwardBackward(data.inputRows(from, count, batchInputs), data.targets().rowSlice(from, count), scale,
                grad);
        primalBatch = b;
    }

    private void requireParameters() {
        if (!parametersSet) {
            throw new IllegalStateException("setParameters() first");
        }
    }

    /** Loss value; also fills {@code grad} (P elements, any dtype) when non-null. */
    public double gradient(Tensor grad) {
        requireParameters();
        if (grad != null && grad.size() != mlp.parameterCount()) {
            throw new IllegalArgumentException("gradient needs " + mlp.parameterCount() + " elements, got " + grad);
        }
        int nb = batches();
        if (nb == 1 && (grad == null || grad.dtype() == engine.dtype())) {
            primal(0, grad == null ? null : grad.reshape((int) grad.size(), 1));
            return engine.lastLoss();
        }
        try (Arena tmp = Arena.ofShared()) { // shared: a multi-threaded backend reads these on its workers
            Tensor part = Tensor.allocate(tmp, engine.dtype(), mlp.parameterCount(), 1);
            double[] acc = grad == null ? null : new double[mlp.parameterCount()];
            double value = 0;
            for (int b = 0; b < nb; b++) {
                primal(b, grad == null ? null : part);
                value += engine.lastLoss();
                if (acc != null) {
                    for (int i = 0; i < acc.length; i++) acc[i] += part.get(i);
                }
            }
            if (grad != null) {
                for (int i = 0; i < acc.length; i++) grad.set(i, acc[i]);
            }
            return value;
        }
    }

    /** The loss value. */
    public double loss() {
        return gradient(null);
    }

    /**
     * The loss value by forward passes only (no backward pass; what an inference pass costs). Forgets the cached
     * primal pass, so that the next product recomputes it.
     */
    public double forwardLoss() {
        requireParameters();
        primalBatch = -1;
        double value = 0;
        for (int b = 0, nb = batches(); b < nb; b++) {
            int from = b * batchSize, count = Math.min(batchSize, data.size() - from);
            value += engine.forward(data.inputRows(from, count, batchInputs), data.targets().rowSlice(from, count),
                    scale);
        }
        return value;
    }

    /**
     * Bytes of off-heap (or device) working memory the objective holds now: the primal buffers, and the tangent
     * buffers once a product has run (see {@link ForwardOverReverse#workingBytes()}). Excludes the data set, the
     * caller's vectors and the short-lived buffers of multi-batch accumulation.
     */
    public long workingBytes() {
        return engine.workingBytes();
    }

    /**
     * {@code out = C·V} for the whole data set. {@code layer < 0} for the full parameter vector, else the
     * 0-based layer whose block {@code C_ll} is applied ({@code V}, {@code out}: that layer's parameter count of
     * rows, weight then bias). {@code V} and {@code out} are {@code n × k} with {@code k ≤ maxBlock()}.
     */
    public void apply(Curvature curvature, int layer, Tensor v, Tensor out) {
        requireParameters();
        int nb = batches();
        if (nb == 1) {
            if (primalBatch != 0) {
                primal(0, null);
            }
            if (v.dtype() == engine.dtype() && out.dtype() == engine.dtype()) {
                engine.product(curvature, layer, v, out);
                return;
            }
        }
        try (Arena tmp = Arena.ofShared()) { // shared: a multi-threaded backend reads these on its workers
            Tensor vv = v;
            if (v.dtype() != engine.dtype()) {
                vv = Tensor.allocate(tmp, engine.dtype(), v.rows(), v.cols());
                vv.copyFrom(v);
            }
            Tensor part = Tensor.allocate(tmp, engine.dtype(), out.rows(), out.cols());
            if (nb == 1) {
                engine.product(curvature, layer, vv, part);
                out.copyFrom(part);
                return;
            }
            double[] acc = new double[Math.toIntExact(out.size())];
            for (int b = 0; b < nb; b++) {
                primal(b, null);
                engine.product(curvature, layer, vv, part);
                for (int i = 0; i < acc.length; i++) acc[i] += part.get(i);
            }
            for (int i = 0; i < acc.length; i++) out.set(i, acc[i]);
        }
    }

    /**
     * Over the whole data set, for one direction {@code v} (P elements, any dtype): {@code hv = H·v} and
     * {@code d3 = D³L[v, v, ·] = ∇_θ(vᵀH(θ)v)} (see {@link ForwardOverReverse#thirdOrder}); returns {@code vᵀHv}.
     * Batches are added in float64, in order.
     */
    public double thirdOrder(Tensor v, Tensor hv, Tensor d3) {
        requireParameters();
        int p = mlp.parameterCount();
        if (v.size() != p || hv.size() != p || d3.size() != p) {
            throw new IllegalArgumentException("thirdOrder needs three vectors of " + p + " elements, got " + v + ", "
                    + hv + ", " + d3);
        }
        int nb = batches();
        try (Arena tmp = Arena.ofShared()) { // shared: a multi-threaded backend reads these on its workers
            Tensor vv = Tensor.allocate(tmp, engine.dtype(), p, 1);
            Tensor h = Tensor.allocate(tmp, engine.dtype(), p, 1);
            Tensor t = Tensor.allocate(tmp, engine.dtype(), p, 1);
            vv.copyFrom(v);
            double[] accH = new double[p], accT = new double[p];
            double quad = 0;
            for (int b = 0; b < nb; b++) {
                if (nb > 1 || primalBatch != 0) {
                    primal(b, null);
                }
                quad += engine.thirdOrder(vv, h, t);
                for (int i = 0; i < p; i++) {
                    accH[i] += h.get(i);
                    accT[i] += t.get(i);
                }
            }
            for (int i = 0; i < p; i++) {
                hv.set(i, accH[i]);
                d3.set(i, accT[i]);
            }
            return quad;
        }
    }

    @Override
    public void close() {
        engine.close();
        arena.close();
    }
}
