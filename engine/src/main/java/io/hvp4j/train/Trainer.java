package io.hvp4j.train;

import io.hvp4j.InvalidInputException;
import io.hvp4j.Progress;
import io.hvp4j.autodiff.BatchEngine;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.ParameterGroup;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic (mini-batch) SGD with optional heavy-ball momentum and the layerwise Hessian-trace regularizer
 * (docs/theory.md §C.6) on the mean loss of each batch.
 *
 * <p>One epoch visits every sample once: with {@code batchSize ≥ N} it is one full-batch gradient step on the
 * samples in their stored order (plain GD); otherwise the samples are shuffled by a Fisher–Yates permutation and
 * cut into batches of {@code batchSize} (the last one may be smaller, as PyTorch's {@code DataLoader} without
 * {@code drop_last}). The permutation and the HTR probes of epoch {@code e} come from a stream derived from
 * {@code (seed, e)} only, so an epoch's work does not depend on how the run got there: restoring the state
 * after epoch {@code e} ({@link #restore}) and running on gives the same bits as an uninterrupted run.
 *
 * <p>Update (PyTorch {@code SGD} semantics): {@code g = ∇L_B(θ) [+ γ·(1/m)Σ_j ∇(v_jᵀH_B v_j)]},
 * {@code buf = μ·buf + g} (with {@code buf = 0} initially), {@code θ ← θ − lr·buf}. The parameters are kept in
 * double and rounded to the working dtype after each step, so an f32 run computes with exactly the parameters
 * it stores. Same seed and thread count ⇒ same bits.
 *
 * <p>Any {@link Network}: an MLP on its engine, or a graph on the graph engine, whose third-order pass gives the
 * HTR gradient {@code ∇(vᵀH_B v)} exactly; the probes are drawn on parameter groups (an MLP's Linear layers, a
 * graph's modules).
 *
 * <p>Not thread-safe. Owns its working memory; {@link #close} frees it.
 */
public final class Trainer implements AutoCloseable {

    /**
     * The Hessian-trace regularizer: {@code γ·(1/m)Σ_j v_jᵀ H_B v_j} with Rademacher probes supported on the
     * parameters of {@code layers}, 0-based indices into the network's groups (an MLP's Linear layers with weight
     * and bias, a graph's modules; all when empty),
     * added on steps {@code step % every == 0} of epochs {@code ≥ startEpoch} ({@code step} counted from 0 within
     * the epoch). The official code uses every = 50, start = 15, m = 10, γ = 1e−3.
     */
    public record Htr(double gamma, int[] layers, int probes, int every, int startEpoch) {
        public Htr {
            if (!(gamma >= 0) || Double.isInfinite(gamma)) {
                throw new InvalidInputException("the HTR weight gamma must be finite and non-negative, got " + gamma);
            }
            if (probes < 1 || every < 1 || startEpoch < 0) {
                throw new InvalidInputException("HTR needs probes >= 1, every >= 1 and start epoch >= 0, got "
                        + probes + ", " + every + ", " + startEpoch);
            }
            layers = layers.clone();
        }

        @Override
        public int[] layers() {
            return layers.clone();
        }

        @Override
        public String toString() {
            return "htr(gamma=" + gamma + ", layers=" + (layers.length == 0 ? "all" : Arrays.toString(layers))
                    + ", probes=" + probes + ", every=" + every + ", start=" + startEpoch + ")";
        }
    }

    /**
     * Optimizer settings.
     *
     * @param learningRate step size (> 0)
     * @param momentum     heavy-ball coefficient μ in [0, 1)
     * @param batchSize    samples per step; {@code ≥ N} means full batch
     * @param seed         seed of the shuffles and probes
     * @param htr          the regularizer, or null for none
     */
    public record Options(double learningRate, double momentum, int batchSize, long seed, Htr htr) {
        public Options {
            if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
                throw new InvalidInputException("the learning rate must be positive and finite, got " + learningRate);
            }
            if (!(momentum >= 0 && momentum < 1)) {
                throw new InvalidInputException("momentum must be in [0, 1), got " + momentum);
            }
            if (batchSize < 1) {
                throw new InvalidInputException("the batch size must be positive, got " + batchSize);
            }
        }
    }

    /**
     * What one epoch did.
     *
     * @param epoch   the epoch's index (0-based)
     * @param loss    the sample-weighted mean of the batch losses, each taken before its step
     * @param penalty mean of {@code (1/m)Σ v_jᵀH_B v_j} over the steps that added it (NaN when none did)
     * @param steps   optimizer steps taken
     */
    public record EpochStats(int epoch, double loss, double penalty, int steps) {
    }

    private final Network network;
    private final Dataset data;
    private final Options options;
    private final DType dtype;
    private final Arena arena = Arena.ofShared();
    private final BatchEngine engine;
    private final int batch;
    private final double[] theta;
    private final double[] buffer;
    private final int[] probeIndices;
    private final Tensor thetaT, grad, xb, yb, probe, hv, d3;
    private int epochsDone;

    /** An MLP: {@code Trainer(Network.of(mlp), ...)}. */
    public Trainer(Mlp mlp, Loss loss, Dataset data, Backend backend, DType dtype, double[] theta0, Options options) {
        this(Network.of(mlp), loss, data, backend, dtype, theta0, options);
    }

    /**
     * A trainer of {@code network} on {@code data}; the backend stays the caller's.
     *
     * @param theta0 the initial parameters (P values, flat PyTorch order); copied
     */
    public Trainer(Network network, Loss loss, Dataset data, Backend backend, DType dtype, double[] theta0,
                   Options options) {
        if (data.inputDimension() != network.inputs() || data.outputDimension() != network.outputs()) {
            throw new InvalidInputException("data has " + data.inputDimension() + " inputs and "
                    + data.outputDimension() + " outputs but the network is " + network.description());
        }
        if (data.dtype() != dtype) {
            throw new IllegalArgumentException("data dtype " + data.dtype() + " differs from " + dtype);
        }
        if (theta0.length != network.parameterCount()) {
            throw new InvalidInputException("expected " + network.parameterCount() + " initial parameters, got "
                    + theta0.length);
        }
        if (loss == Loss.CE) {
            if (network.outputs() < 2) {
                throw new InvalidInputException("ce needs at least 2 outputs, the network has " + network.outputs());
            }
            Dataset.requireProbabilities(data.targets(), "targets");
        }
        Htr h = options.htr();
        this.probeIndices = h == null ? null : probeSupport(network, h.layers());
        this.network = network;
        this.data = data;
        this.options = options;
        this.dtype = dtype;
        this.batch = Math.min(options.batchSize(), data.size());
        this.engine = network.engines().create(loss, backend, dtype, batch);
        int p = network.parameterCount();
        this.theta = theta0.clone();
        roundToDtype(theta);
        this.buffer = new double[p];
        thetaT = Tensor.allocate(arena, dtype, p, 1);
        grad = Tensor.allocate(arena, dtype, p, 1);
        boolean mini = batch < data.size();
        xb = mini || data.streamed() ? Tensor.allocate(arena, dtype, batch, network.inputs()) : null;
        yb = mini ? Tensor.allocate(arena, dtype, batch, network.outputs()) : null;
        if (h != null) {
            probe = Tensor.allocate(arena, dtype, p, 1);
            hv = Tensor.allocate(arena, dtype, p, 1);
            d3 = Tensor.allocate(arena, dtype, p, 1);
        } else {
            probe = hv = d3 = null;
        }
    }

    /**
     * Flat indices of the parameters of the groups {@code layers} (all when empty), validated; the groups must be
     * consecutive in the flat vector (MLP layers and graph modules are).
     */
    static int[] probeSupport(Network network, int[] layers) {
        List<ParameterGroup> groups = network.groups();
        int count = groups.size();
        int[] ls = layers.length == 0 ? java.util.stream.IntStream.range(0, count).toArray() : layers;
        boolean[] seen = new boolean[count];
        String kind = network.groupKind();
        String unit = kind.substring(0, kind.length() - 1).replace("Linear layer", "layer");
        int n = 0;
        for (int l : ls) {
            if (l < 0 || l >= count) {
                throw new InvalidInputException("HTR " + unit + " " + l + " is out of range: the network has " + count
                        + " " + kind + " (0-based" + (kind.equals("modules") ? ": " + names(groups) : "") + ")");
            }
            if (seen[l]) {
                throw new InvalidInputException("HTR " + unit + " " + l + " is listed twice");
            }
            if (groups.get(l).offset() < 0) {
                throw new InvalidInputException("HTR " + unit + " " + groups.get(l).name()
                        + ": its parameters are not consecutive in the flat vector");
            }
            seen[l] = true;
            n += groups.get(l).size();
        }
        int[] idx = new int[n];
        int k = 0;
        for (int l = 0; l < count; l++) {
            if (seen[l]) {
                ParameterGroup g = groups.get(l);
                for (int i = 0; i < g.size(); i++) idx[k++] = (int) g.offset() + i;
            }
        }
        return idx;
    }

    private static String names(List<ParameterGroup> groups) {
        return String.join(", ", groups.stream().map(ParameterGroup::name).toList());
    }

    /** What is trained. */
    public Network network() {
        return network;
    }

    public Options options() {
        return options;
    }

    /** Epochs completed so far (the index of the next epoch). */
    public int epochsDone() {
        return epochsDone;
    }

    /** A copy of the current parameters. */
    public double[] parameters() {
        return theta.clone();
    }

    /** A copy of the momentum buffer (zeros without momentum). */
    public double[] momentumBuffer() {
        return buffer.clone();
    }

    /** Resumes from a saved state: the parameters and momentum buffer after {@code epochsDone} epochs. */
    public void restore(double[] parameters, double[] momentum, int epochsDone) {
        if (parameters.length != theta.length || momentum.length != buffer.length || epochsDone < 0) {
            throw new InvalidInputException("saved state has " + parameters.length + " parameters and "
                    + momentum.length + " momentum values, expected " + theta.length);
        }
        System.arraycopy(parameters, 0, theta, 0, theta.length);
        roundToDtype(theta);
        System.arraycopy(momentum, 0, buffer, 0, buffer.length);
        this.epochsDone = epochsDone;
    }

    private void roundToDtype(double[] a) {
        if (dtype == DType.F32) {
            for (int i = 0; i < a.length; i++) a[i] = (float) a[i];
        }
    }

    /** The stream of epoch {@code e}: a function of (seed, e) only. */
    private SplittableRandom epochStream(int e) {
        return new SplittableRandom(options.seed() * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L * (e + 1L));
    }

    /** Called after each epoch of {@link #train}, e.g. to track curvature or save the parameters. */
    @FunctionalInterface
    public interface EpochListener {
        void afterEpoch(EpochStats stats, Trainer trainer);
    }

    /**
     * Runs epochs until {@code epochs} have been done in total (none if already there), calling {@code listener}
     * (may be null) after each; returns the stats of the epochs run here.
     */
    public java.util.List<EpochStats> train(int epochs, EpochListener listener) {
        return train(epochs, listener, Progress.NONE);
    }

    /**
     * As {@link #train(int, EpochListener)}, telling {@code progress} the optimizer steps done over all the epochs
     * run here ({@code total = (epochs − epochsDone()) · stepsPerEpoch()}). Progress never changes the bits.
     */
    public java.util.List<EpochStats> train(int epochs, EpochListener listener, Progress progress) {
        Progress pr = Progress.orNone(progress);
        long spe = stepsPerEpoch();
        int first = epochsDone;
        long total = Math.max(0, epochs - first) * spe;
        java.util.List<EpochStats> out = new java.util.ArrayList<>();
        while (epochsDone < epochs) {
            long offset = (epochsDone - first) * spe;
            EpochStats s = epoch((done, t) -> pr.update(offset + done, total));
            out.add(s);
            if (listener != null) {
                listener.afterEpoch(s, this);
            }
        }
        return out;
    }

    /** Optimizer steps in one epoch: {@code ⌈N / batch⌉} (1 for full batch). */
    public int stepsPerEpoch() {
        return (data.size() + batch - 1) / batch;
    }

    /** Runs the next epoch and returns what it did. */
    public EpochStats epoch() {
        return epoch(Progress.NONE);
    }

    /**
     * As {@link #epoch()}, telling {@code progress} the steps done (0 first, then after each step, out of
     * {@link #stepsPerEpoch()}); the callback sees nothing of the computation, so the bits are the same.
     */
    public EpochStats epoch(Progress progress) {
        Progress pr = Progress.orNone(progress);
        int total = stepsPerEpoch();
        pr.update(0, total);
        int e = epochsDone;
        int n = data.size();
        SplittableRandom root = epochStream(e);
        SplittableRandom shuffle = root.split(), probes = root.split();
        int[] order = null;
        if (batch < n) {
            order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            for (int i = n - 1; i > 0; i--) {
                int j = shuffle.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        Htr h = options.htr();
        double lossSum = 0, penaltySum = 0;
        int steps = 0, penalized = 0;
        for (int from = 0; from < n; from += batch) {
            int b = Math.min(batch, n - from);
            Tensor x, y;
            if (order == null) {
                x = data.inputRows(0, n, xb);
                y = data.targets();
            } else {
                x = xb.rowSlice(0, b);
                y = yb.rowSlice(0, b);
                for (int r = 0; r < b; r++) {
                    data.copyInputs(order[from + r], x.rowSlice(r, 1));
                    y.rowSlice(r, 1).copyFrom(data.targets().rowSlice(order[from + r], 1));
                }
            }
            for (int i = 0; i < theta.length; i++) thetaT.set(i, theta[i]);
            engine.setParameters(thetaT);
            lossSum += b * engine.forwardBackward(x, y, 1.0 / b, grad);
            double[] g = grad.toDoubleArray();
            if (h != null && h.gamma() > 0 && e >= h.startEpoch() && steps % h.every() == 0) {
                double quad = 0;
                for (int j = 0; j < h.probes(); j++) {
                    probe.zero();
                    for (int i : probeIndices) probe.set(i, probes.nextBoolean() ? 1 : -1);
                    quad += engine.thirdOrder(probe, hv, d3);
                    for (int i = 0; i < g.length; i++) g[i] += h.gamma() / h.probes() * d3.get(i);
                }
                penaltySum += quad / h.probes();
                penalized++;
            }
            double mu = options.momentum(), lr = options.learningRate();
            for (int i = 0; i < theta.length; i++) {
                buffer[i] = mu * buffer[i] + g[i];
                theta[i] -= lr * buffer[i];
            }
            roundToDtype(theta);
            steps++;
            pr.update(steps, total);
        }
        for (double t : theta) {
            if (!Double.isFinite(t)) {
                throw new InvalidInputException("training diverged in epoch " + (e + 1) + " (a parameter became "
                        + t + "); lower the learning rate");
            }
        }
        epochsDone++;
        return new EpochStats(e, lossSum / n, penalized == 0 ? Double.NaN : penaltySum / penalized, steps);
    }

    @Override
    public void close() {
        engine.close();
        arena.close();
    }
}
