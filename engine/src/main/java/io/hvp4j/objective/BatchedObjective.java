package io.hvp4j.objective;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.BatchEngine;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The batching every {@link Objective} shares: the data set is processed in batches of at most {@code batchSize}
 * rows, in order; with more than one batch the per-batch results are added in float64, batch by batch in order
 * (deterministic for a fixed thread count). With one batch the primal pass is computed once per parameter setting
 * and shared by every product. A subclass supplies the one-batch engine through the {@code engine*} hooks.
 */
public abstract class BatchedObjective implements Objective {
    /** The data set (owned by the caller). */
    protected final Dataset data;
    /** 1/N for the mean, 1 for the sum. */
    protected final double scale;
    /** Rows per batch (at most the data set's size). */
    protected final int batchSize;
    private final DType dtype;
    private final Loss loss;
    private final Loss.Reduction reduction;
    private final Backend backend;
    private final Arena arena = Arena.ofShared();
    /** One batch of converted inputs when the data set is streamed, else null. */
    private final Tensor batchInputs;
    private boolean parametersSet;
    /** The thread inside a computing call, and how deep (see enter). */
    private final AtomicReference<Thread> user = new AtomicReference<>();
    private int depth;
    /** The batch whose primal pass the engine holds, or -1. */
    protected int primalBatch = -1;

    /**
     * Batching and bookkeeping for a subclass's engine.
     *
     * @param data      the data set, in {@code dtype} (the caller's; it must outlive the objective)
     * @param loss      the loss per sample
     * @param reduction mean or sum over the samples
     * @param backend   the kernels (the caller's)
     * @param dtype     the precision
     * @param batchSize rows per batch (clamped to {@code [1, N]})
     */
    protected BatchedObjective(Dataset data, Loss loss, Loss.Reduction reduction, Backend backend, DType dtype,
                               int batchSize) {
        if (data.dtype() != dtype) {
            throw new IllegalArgumentException("data dtype " + data.dtype() + " differs from " + dtype);
        }
        this.data = data;
        this.dtype = dtype;
        this.loss = loss;
        this.reduction = reduction;
        this.backend = backend;
        this.scale = reduction == Loss.Reduction.MEAN ? 1.0 / data.size() : 1.0;
        this.batchSize = Math.max(1, Math.min(batchSize, data.size()));
        this.batchInputs = data.streamed() ? Tensor.allocate(arena, dtype, this.batchSize, data.inputDimension()) : null;
    }

    private volatile boolean closed;

    /** The one-batch engine (set by the subclass constructor through {@link #engine(BatchEngine)}). */
    private BatchEngine engine;

    /**
     * Sets the one-batch engine; a subclass constructor calls it once.
     *
     * @param e the engine (closed with the objective)
     */
    protected final void engine(BatchEngine e) {
        this.engine = e;
    }

    /**
     * The product on the batch of the last primal pass.
     *
     * @param c     the curvature
     * @param group a parameter group, or null for all parameters
     * @param v     the vectors (the engine's dtype)
     * @param out   receives the products (the engine's dtype)
     */
    protected abstract void engineProduct(Curvature c, ParameterGroup group, Tensor v, Tensor out);

    /**
     * The model, for messages.
     *
     * @return a one-line description
     */
    protected abstract String modelName();

    /**
     * The model, for {@link #fingerprint}.
     *
     * @return everything that defines the model's function (architecture or graph structure)
     */
    protected abstract String modelDescription();

    /**
     * The model, loss, reduction, dtype, backend (name and threads), batch rows, and the SHA-256 of the parameters,
     * inputs and targets: two objectives with equal fingerprints compute the same products bit for bit. Reads the
     * parameters and the whole data set once (a device tensor is downloaded).
     */
    @Override
    public String fingerprint() {
        requireParameters();
        return "model=" + modelDescription() + "; loss=" + loss.id() + "; reduction=" + reduction + "; dtype=" + dtype
                + "; backend=" + backend.name() + "; threads=" + backend.threads() + "; batch=" + batchSize
                + "; theta=" + sha256(parameters()) + "; x=" + sha256(data.inputs()) + "; y=" + sha256(data.targets());
    }

    private String sha256(Tensor t) {
        if (!t.isHost()) {
            try (Arena tmp = Arena.ofConfined()) {
                Tensor host = Tensor.allocate(tmp, t.dtype(), t.rows(), t.cols());
                backend.download(t, host);
                return host.sha256();
            }
        }
        return t.sha256();
    }

    /**
     * The loss.
     *
     * @return the loss per sample
     */
    public final Loss lossFunction() {
        return loss;
    }

    /**
     * The reduction.
     *
     * @return mean or sum over the samples
     */
    public final Loss.Reduction reduction() {
        return reduction;
    }

    /**
     * The data.
     *
     * @return the data set (owned by the caller)
     */
    public final Dataset data() {
        return data;
    }

    /**
     * The batching.
     *
     * @return rows per batch
     */
    public final int batchRows() {
        return batchSize;
    }

    @Override
    public final DType dtype() {
        return dtype;
    }

    @Override
    public int maxBlock() {
        return engine.maxBlock();
    }

    @Override
    public int batches() {
        return (data.size() + batchSize - 1) / batchSize;
    }

    @Override
    public void setParameters(Tensor theta) {
        enter();
        try {
            if (theta.size() != parameterCount()) {
                throw new InvalidInputException("expected " + parameterCount() + " parameters for " + modelName()
                        + ", got " + theta.size());
            }
            long bad = theta.firstNonFinite();
            if (bad >= 0) {
                throw new InvalidInputException("parameters contain a non-finite value at index " + bad);
            }
            if (dtype == DType.F32) {
                // Checked on the host (the engine's copy may be device memory): Tensor.set rounds the same way.
                for (long i = 0, n = theta.size(); i < n; i++) {
                    if (Float.isInfinite((float) theta.get(i))) {
                        parametersSet = false;
                        throw new InvalidInputException("parameter " + i + " (" + theta.get(i) + ") overflows "
                                + dtype);
                    }
                }
            }
            engine.setParameters(theta);
            parametersSet = true;
            primalBatch = -1;
    
        } finally {
            exit();
        }
    }

    @Override
    public Tensor parameters() {
        return engine.parameters();
    }

    @Override
    public void invalidate() {
        engine.invalidate();
        primalBatch = -1;
    }

    /**
     * Runs the primal pass of one batch and keeps it for products.
     *
     * @param b    the batch index
     * @param grad receives the batch's gradient (added in), or null
     * @return the batch's loss (scaled as the objective)
     */
    protected double primal(int b, Tensor grad) {
        int from = b * batchSize, count = Math.min(batchSize, data.size() - from);
        double l = engine.forwardBackward(data.inputRows(from, count, batchInputs),
                data.targets().rowSlice(from, count), scale, grad);
        primalBatch = b;
        return l;
    }

    /**
     * Marks the calling thread as this objective's user for one computing call (nested calls of the same thread
     * pass). The working buffers are shared, so a second thread at the same time would get wrong numbers: it gets
     * an {@link IllegalStateException} instead.
     */
    private void enter() {
        if (closed) {
            throw new IllegalStateException("this " + modelName() + " objective is closed");
        }
        Thread me = Thread.currentThread();
        if (user.get() == me) {
            depth++;
            return;
        }
        if (!user.compareAndSet(null, me)) {
            throw new IllegalStateException("this " + modelName() + " objective is in use by another thread: an"
                    + " Objective (and a Session over it) is not thread-safe; give each thread its own");
        }
        depth = 1;
    }

    private void exit() {
        if (--depth == 0) {
            user.set(null);
        }
    }

    /** Refuses {@code a} and {@code b} sharing memory: the products read one while writing the other. */
    static void requireDisjoint(String what, Tensor a, Tensor b) {
        if (a.isHost() && b.isHost() && a.segment().asOverlappingSlice(b.segment()).isPresent()) {
            throw new IllegalArgumentException(what + " overlap: pass an output that does not share memory with the"
                    + " input");
        }
    }

    /** Throws {@link IllegalStateException} until {@link #setParameters} has been called. */
    protected void requireParameters() {
        if (!parametersSet) {
            throw new IllegalStateException("setParameters() first");
        }
    }

    @Override
    public double gradient(Tensor grad) {
        enter();
        try {
            requireParameters();
            int p = parameterCount();
            if (grad != null && grad.size() != p) {
                throw new IllegalArgumentException("gradient needs " + p + " elements, got " + grad);
            }
            int nb = batches();
            if (nb == 1 && (grad == null || grad.dtype() == dtype)) {
                return primal(0, grad == null ? null : grad.reshape((int) grad.size(), 1));
            }
            try (Arena tmp = Arena.ofShared()) { // shared: a multi-threaded backend reads these on its workers
                Tensor part = Tensor.allocate(tmp, dtype, p, 1);
                double[] acc = grad == null ? null : new double[p];
                double value = 0;
                for (int b = 0; b < nb; b++) {
                    value += primal(b, grad == null ? null : part);
                    if (acc != null) {
                        for (int i = 0; i < acc.length; i++) acc[i] += part.get(i);
                    }
                }
                if (grad != null) {
                    for (int i = 0; i < acc.length; i++) grad.set(i, acc[i]);
                }
                return value;
            }
    
        } finally {
            exit();
        }
    }

    @Override
    public double forwardLoss() {
        enter();
        try {
            requireParameters();
            primalBatch = -1;
            double value = 0;
            for (int b = 0, nb = batches(); b < nb; b++) {
                int from = b * batchSize, count = Math.min(batchSize, data.size() - from);
                value += engine.forward(data.inputRows(from, count, batchInputs), data.targets().rowSlice(from, count),
                        scale);
            }
            return value;
    
        } finally {
            exit();
        }
    }

    @Override
    public long workingBytes() {
        return engine.workingBytes();
    }

    @Override
    public void apply(Curvature curvature, ParameterGroup group, Tensor v, Tensor out) {
        requireDisjoint("v and out", v, out);
        enter();
        try {
            requireParameters();
            int nb = batches();
            if (nb == 1) {
                if (primalBatch != 0) {
                    primal(0, null);
                }
                if (v.dtype() == dtype && out.dtype() == dtype) {
                    engineProduct(curvature, group, v, out);
                    return;
                }
            }
            try (Arena tmp = Arena.ofShared()) { // shared: a multi-threaded backend reads these on its workers
                Tensor vv = v;
                if (v.dtype() != dtype) {
                    vv = Tensor.allocate(tmp, dtype, v.rows(), v.cols());
                    vv.copyFrom(v);
                }
                Tensor part = Tensor.allocate(tmp, dtype, out.rows(), out.cols());
                if (nb == 1) {
                    engineProduct(curvature, group, vv, part);
                    out.copyFrom(part);
                    return;
                }
                double[] acc = new double[Math.toIntExact(out.size())];
                for (int b = 0; b < nb; b++) {
                    primal(b, null);
                    engineProduct(curvature, group, vv, part);
                    for (int i = 0; i < acc.length; i++) acc[i] += part.get(i);
                }
                for (int i = 0; i < acc.length; i++) out.set(i, acc[i]);
            }
    
        } finally {
            exit();
        }
    }

    @Override
    public double thirdOrder(Tensor v, Tensor hv, Tensor d3) {
        requireDisjoint("v and hv", v, hv);
        requireDisjoint("v and d3", v, d3);
        requireDisjoint("hv and d3", hv, d3);
        enter();
        try {
            requireParameters();
            int p = parameterCount();
            if (v.size() != p || hv.size() != p || d3.size() != p) {
                throw new IllegalArgumentException("thirdOrder needs three vectors of " + p + " elements, got " + v
                        + ", " + hv + ", " + d3);
            }
            int nb = batches();
            try (Arena tmp = Arena.ofShared()) { // shared: a multi-threaded backend reads these on its workers
                Tensor vv = Tensor.allocate(tmp, dtype, p, 1);
                Tensor h = Tensor.allocate(tmp, dtype, p, 1);
                Tensor t = Tensor.allocate(tmp, dtype, p, 1);
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
    
        } finally {
            exit();
        }
    }

    /** Frees the working memory; closing twice does nothing, a computing call after it throws. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        engine.close();
        arena.close();
    }
}
