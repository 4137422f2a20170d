package io.hvp4j.api;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.GraphWeights;
import io.hvp4j.graph.Models;
import io.hvp4j.io.DataFiles;
import io.hvp4j.io.ModelWeights;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.onnx.OnnxModel;
import io.hvp4j.spectral.CurvatureRank;
import io.hvp4j.spectral.Lanczos;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.spectral.TraceEstimators;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The common path in one object: a network (a built-in, an ONNX file, any {@link Graph}, or an {@link Mlp}), its
 * parameters, a
 * data set and a loss, with the gradient, exact curvature products (Hessian {@code H}, Gauss–Newton {@code H_O},
 * functional {@code H_F}; all parameters or a {@link ParameterGroup}) and the spectral tools (top eigenvalues, rank,
 * trace, spectral density). Vectors are plain {@code double[]} of {@link #parameterCount()} (or the group's size)
 * values in the flat order of PyTorch's {@code parameters_to_vector}.
 *
 * <pre>{@code
 * try (Session s = Session.builder().model("lenet5").gaussianData(64).open()) {
 *     double[] hv = s.hvp(v);
 *     double top = s.topEigenvalues(Curvature.HESSIAN, null, 1)[0];
 * }
 * }</pre>
 *
 * <p>Defaults: float64, the vector (CPU) backend on every processor, the whole data set as one batch, mean
 * cross-entropy, parameters from the ONNX file or else the model's initializer with seed 0. {@link #objective()}
 * opens the layer below (the {@link Objective} every spectral tool takes) for anything the session does not wrap.
 *
 * <p>Ownership and threads: a session owns its memory (parameters, data it read or generated, working buffers) and,
 * unless one was given to the builder, its backend; {@link #close()} frees them, after which every method that
 * computes or reads its state throws {@link IllegalStateException} ({@link #graph()} and {@link #mlp()}, immutable
 * descriptions of the network, stay available). Arrays it returns are fresh copies owned by the caller. A session is not
 * thread-safe: use it from one thread at a time (its backend runs its own worker threads inside each call); a
 * second thread computing while the first is inside a call gets an {@link IllegalStateException}.
 */
public final class Session implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Session.class);
    private final Arena arena;
    private final Backend backend;
    private final boolean ownsBackend;
    private final Objective objective;
    private final Graph graph;
    private final Mlp mlp;
    private final long seed;
    private boolean closed;

    private Session(Arena arena, Backend backend, boolean ownsBackend, Objective objective, Graph graph, Mlp mlp,
                    long seed) {
        this.arena = arena;
        this.backend = backend;
        this.ownsBackend = ownsBackend;
        this.objective = objective;
        this.graph = graph;
        this.mlp = mlp;
        this.seed = seed;
    }

    /**
     * Starts a session.
     *
     * @return a builder with the defaults of the class comment
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The number of parameters.
     *
     * @return P, the length of a flat parameter vector
     */
    public int parameterCount() {
        return objective().parameterCount();
    }

    /**
     * The layerwise groups.
     *
     * @return an MLP's Linear layers, or a graph's modules, in flat order (unmodifiable)
     */
    public List<ParameterGroup> groups() {
        return objective().groups();
    }

    /**
     * The parameters named by {@code pattern}: a graph's parameter or module name or a glob ({@code layers.*.bn?});
     * for an MLP, the index of a Linear module in {@code nn.Sequential} ({@code "0"}, {@code "2"}, ...).
     *
     * @param pattern a name or glob
     * @return the group of the matching parameters
     * @throws InvalidInputException if nothing matches
     */
    public ParameterGroup group(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        if (objective() instanceof GraphObjective g) {
            return g.select(pattern);
        }
        return groups().stream().filter(x -> x.name().equals(pattern)).findFirst()
                .orElseThrow(() -> new InvalidInputException("no layer named '" + pattern + "'; the layers are "
                        + groups().stream().map(ParameterGroup::name).toList()));
    }

    /**
     * The loss at the current parameters.
     *
     * @return the loss over the whole data set (with the builder's reduction)
     */
    public double loss() {
        return objective().loss();
    }

    /**
     * The gradient at the current parameters.
     *
     * @return the gradient of the loss (P values, the caller's)
     */
    public double[] gradient() {
        Objective f = objective();
        try (Arena tmp = Arena.ofShared()) {
            Tensor g = Tensor.allocate(tmp, f.dtype(), f.parameterCount(), 1);
            f.gradient(g);
            return g.toDoubleArray();
        }
    }

    /**
     * The Hessian-vector product for all parameters.
     *
     * @param v P values (not modified)
     * @return {@code H·v} (P values, the caller's)
     */
    public double[] hvp(double[] v) {
        return product(Curvature.HESSIAN, null, v);
    }

    /**
     * {@code C·v} for the curvature {@code c}, all parameters ({@code group} null) or the diagonal block of a group
     * ({@code v} then holds the group's values).
     *
     * @param c     which curvature
     * @param group a parameter group, or null for all parameters
     * @param v     the group's size in values (not modified)
     * @return {@code C·v} (the caller's)
     * @throws InvalidInputException if {@code v} has the wrong length or a NaN or infinite value
     */
    public double[] product(Curvature c, ParameterGroup group, double[] v) {
        Objective f = objective();
        int n = CurvatureRank.dimension(f, group);
        if (v.length != n) {
            throw new InvalidInputException("the vector has " + v.length + " values, the operator " + n);
        }
        requireRepresentable(v, f.dtype(), "the vector");
        try (Arena tmp = Arena.ofShared()) {
            Tensor in = Tensor.of(tmp, f.dtype(), n, 1, v);
            Tensor out = Tensor.allocate(tmp, f.dtype(), n, 1);
            f.apply(c, group, in, out);
            return out.toDoubleArray();
        }
    }

    /**
     * The curvature operator, for the spectral tools of {@code io.hvp4j.spectral}.
     *
     * @param c     which curvature
     * @param group a parameter group, or null for all parameters
     * @return the operator; valid while the session is open
     */
    public SymmetricOperator operator(Curvature c, ParameterGroup group) {
        return Operators.curvature(objective(), c, group);
    }

    /**
     * The {@code k} largest eigenvalues of {@code c} (group null: all parameters), descending, by Lanczos with full
     * reorthogonalization to the default tolerance of the dtype.
     *
     * @param c     which curvature
     * @param group a parameter group, or null for all parameters
     * @param k     how many eigenvalues (at most the dimension)
     * @return the largest eigenvalues, descending
     */
    public double[] topEigenvalues(Curvature c, ParameterGroup group, int k) {
        SymmetricOperator op = operator(c, group);
        Lanczos.Result r = Lanczos.compute(op, Math.min(k, op.dimension()), 0, seed);
        return r.top().stream().mapToDouble(Lanczos.RitzPair::value).toArray();
    }

    /**
     * The numerical ranks of curvature operators ({@link CurvatureRank}).
     *
     * @param ops     the curvatures to rank
     * @param group   a parameter group, or null for all parameters
     * @param options method, tolerance, checkpoint; null for the defaults (dense, numpy's tolerance)
     * @return one rank report per operator
     */
    public CurvatureRank.Result rank(List<Curvature> ops, ParameterGroup group, CurvatureRank.Options options) {
        return CurvatureRank.compute(objective(), group, ops, backend,
                options == null ? new CurvatureRank.Options() : options);
    }

    /**
     * Hutchinson's estimate of a trace.
     *
     * @param c      which curvature
     * @param group  a parameter group, or null for all parameters
     * @param probes the number of Rademacher probe vectors
     * @return the estimate of {@code tr(C)} with its standard error
     */
    public TraceEstimators.Estimate trace(Curvature c, ParameterGroup group, int probes) {
        return TraceEstimators.hutchinson(operator(c, group), probes, TraceEstimators.Probe.RADEMACHER, seed,
                objective.maxBlock());
    }

    /**
     * The spectral density by stochastic Lanczos quadrature with the defaults of {@link SpectralDensity}.
     *
     * @param c     which curvature
     * @param group a parameter group, or null for all parameters
     * @return the density of {@code C}'s spectrum
     */
    public SpectralDensity.Result density(Curvature c, ParameterGroup group) {
        return SpectralDensity.compute(operator(c, group), seed);
    }

    /**
     * The layer below, for everything the session does not wrap.
     *
     * @return the objective underneath (owned by the session: do not close it)
     * @throws IllegalStateException if the session is closed
     */
    public Objective objective() {
        if (closed) {
            throw new IllegalStateException("the session is closed");
        }
        return objective;
    }

    /**
     * The network.
     *
     * @return the network graph, or null for an MLP
     */
    public Graph graph() {
        return graph;
    }

    /**
     * The network.
     *
     * @return the MLP, or null for a graph
     */
    public Mlp mlp() {
        return mlp;
    }

    /** Frees the session's memory and its own backend; closing twice does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        objective.close();
        if (ownsBackend) {
            backend.close();
        }
        arena.close();
    }

    /**
     * Refuses NaN, infinities and, in float32, finite values beyond its range (they would become infinite). Checked on
     * the caller's doubles, before rounding, so that the message names the value given.
     */
    private static void requireRepresentable(double[] v, DType dtype, String what) {
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new InvalidInputException(what + "[" + i + "] is " + v[i] + " (non-finite)");
            }
            if (dtype == DType.F32 && Math.abs(v[i]) > Float.MAX_VALUE) {
                throw new InvalidInputException(what + "[" + i + "] = " + v[i] + " is beyond float32's range (±"
                        + Float.MAX_VALUE + "); use DType.F64 or rescale");
            }
        }
    }

    /** Collects the session's parts; every setting has a default except the network. Not thread-safe. */
    public static final class Builder {
        private Graph graph;
        private Mlp mlp;
        private double[] fileParameters;
        private Path weights;
        private double[] parameters;
        private Path inputs;
        private Path targets;
        private Dataset data;
        private int gaussian = 256;
        private Loss loss = Loss.CE;
        private Loss.Reduction reduction = Loss.Reduction.MEAN;
        private DType dtype = DType.F64;
        private Backend backend;
        private int threads = Runtime.getRuntime().availableProcessors();
        private int batchSize = Integer.MAX_VALUE;
        private int maxBlock = 16;
        private long seed;

        private Builder() {
        }

        /**
         * A built-in network (10 classes), or a network exported from PyTorch to ONNX with its weights, which are
         * then the default parameters ({@link OnnxModel} says what is read; its warnings are logged). The file is
         * read here.
         *
         * @param name one of {@link Models#NAMES}, or the path of a {@code .onnx} file
         * @return this builder
         * @throws InvalidInputException for an unknown name, or an ONNX file that cannot be read or imported
         */
        public Builder model(String name) {
            Objects.requireNonNull(name, "name");
            if (!OnnxModel.isOnnx(name)) {
                return model(Models.byName(name, 10));
            }
            OnnxModel m = OnnxModel.load(Path.of(name));
            for (String w : m.warnings()) {
                LOG.warn("{}: {}", name, w);
            }
            model(m.graph());
            fileParameters = m.parameters();
            return this;
        }

        /**
         * Any network graph.
         *
         * @param g a graph (e.g. from {@code io.hvp4j.graph.GraphBuilder})
         * @return this builder
         */
        public Builder model(Graph g) {
            graph = Objects.requireNonNull(g, "graph");
            mlp = null;
            fileParameters = null;
            return this;
        }

        /**
         * A multilayer perceptron.
         *
         * @param m the network
         * @return this builder
         */
        public Builder model(Mlp m) {
            mlp = Objects.requireNonNull(m, "mlp");
            graph = null;
            fileParameters = null;
            return this;
        }

        /**
         * Parameters from a {@code state_dict} ({@code .safetensors}, {@code .npz}) or a flat {@code .npy} vector.
         * Default: an ONNX file's own weights, else the model's initializer with the seed.
         *
         * @param file the weights file, read by {@link #open()}
         * @return this builder
         */
        public Builder weights(Path file) {
            weights = file;
            return this;
        }

        /**
         * Parameters as a flat vector.
         *
         * @param theta P values in the flat order (copied)
         * @return this builder
         */
        public Builder parameters(double[] theta) {
            parameters = theta.clone();
            return this;
        }

        /**
         * Inputs and targets from files ({@code .npy}, {@code .csv}, {@code .npz}, IDX; {@link DataFiles}).
         *
         * @param inputs  the inputs file, read by {@link #open()}
         * @param targets the targets file, or null where the inputs file holds both
         * @return this builder
         */
        public Builder data(Path inputs, Path targets) {
            this.inputs = Objects.requireNonNull(inputs, "inputs");
            this.targets = targets;
            data = null;
            return this;
        }

        /**
         * A data set the caller owns.
         *
         * @param d the data (it must outlive the session)
         * @return this builder
         */
        public Builder data(Dataset d) {
            data = Objects.requireNonNull(d, "data");
            inputs = null;
            return this;
        }

        /**
         * Generated data: standard-normal inputs with random targets (the default, 256 samples).
         *
         * @param n the number of samples
         * @return this builder
         */
        public Builder gaussianData(int n) {
            gaussian = n;
            data = null;
            inputs = null;
            return this;
        }

        /**
         * The loss; default mean cross-entropy.
         *
         * @param l the loss
         * @param r mean or sum over the samples
         * @return this builder
         */
        public Builder loss(Loss l, Loss.Reduction r) {
            loss = Objects.requireNonNull(l, "loss");
            reduction = Objects.requireNonNull(r, "reduction");
            return this;
        }

        /**
         * The precision of parameters, data and arithmetic; default float64.
         *
         * @param d the dtype
         * @return this builder
         */
        public Builder dtype(DType d) {
            dtype = Objects.requireNonNull(d, "dtype");
            return this;
        }

        /**
         * Worker threads of the default (vector) backend; default every processor.
         *
         * @param n at least 1
         * @return this builder
         */
        public Builder threads(int n) {
            if (n < 1) {
                throw new InvalidInputException("threads must be positive, got " + n);
            }
            threads = n;
            return this;
        }

        /**
         * A backend the caller owns and closes (e.g. CUDA's); the session does not close it.
         *
         * @param b the backend (it must outlive the session)
         * @return this builder
         */
        public Builder backend(Backend b) {
            backend = Objects.requireNonNull(b, "backend");
            return this;
        }

        /**
         * Rows per batch (bounds working memory); default the whole data set.
         *
         * @param rows at least 1
         * @return this builder
         */
        public Builder batchSize(int rows) {
            if (rows < 1) {
                throw new InvalidInputException("batch size must be positive, got " + rows);
            }
            batchSize = rows;
            return this;
        }

        /**
         * Most vectors per block product (working memory grows with it); default 16.
         *
         * @param k at least 1
         * @return this builder
         */
        public Builder maxBlock(int k) {
            if (k < 1) {
                throw new InvalidInputException("block size must be positive, got " + k);
            }
            maxBlock = k;
            return this;
        }

        /**
         * Seed of the initializer, the generated data and the random vectors of the spectral tools; default 0.
         *
         * @param s the seed
         * @return this builder
         */
        public Builder seed(long s) {
            seed = s;
            return this;
        }

        /**
         * Reads and checks everything, and opens the session.
         *
         * @return the session (the caller closes it)
         * @throws InvalidInputException for bad files, shapes or settings
         */
        public Session open() {
            if (graph == null && mlp == null) {
                throw new InvalidInputException("no model: call model(...) first");
            }
            Arena arena = Arena.ofShared();
            Backend be = backend;
            Objective f = null;
            try {
                if (be == null) {
                    be = new VectorBackend(threads);
                }
                int in = graph != null ? graph.inputSize() : mlp.inputs();
                int out = graph != null ? graph.outputSize() : mlp.outputs();
                Graph g = graph;
                Tensor theta;
                if (weights != null) {
                    if (g != null) {
                        GraphWeights.Loaded w = GraphWeights.load(weights, g, dtype, arena);
                        g = w.graph();
                        theta = w.parameters();
                    } else {
                        theta = ModelWeights.load(weights, mlp, dtype, arena);
                    }
                } else {
                    if (parameters != null) {
                        requireRepresentable(parameters, dtype, "parameters");
                    }
                    double[] values = parameters != null ? parameters
                            : fileParameters != null ? fileParameters
                            : g != null ? g.initialParameters(seed) : Initializer.GLOROT_NORMAL.initialize(mlp, seed);
                    theta = Tensor.of(arena, dtype, values.length, 1, values);
                }
                Dataset d = data;
                if (d == null && inputs != null) {
                    // A graph model also takes its inputs in the model's layout, (N, C, H, W) for images.
                    d = DataFiles.read(inputs, targets, g != null
                            ? new DataFiles.Dims(in, out, "the model", g.input().shape().dims())
                            : new DataFiles.Dims(in, out, "--arch " + mlp.architecture()), loss, dtype, arena);
                } else if (d == null) {
                    d = Dataset.gaussian(arena, dtype, gaussian, in, out, loss, seed);
                }
                int rows = Math.min(batchSize, d.size());
                f = g != null ? new GraphObjective(g, loss, reduction, d, be, dtype, rows, maxBlock)
                        : new MlpObjective(mlp, loss, reduction, d, be, dtype, rows, maxBlock);
                f.setParameters(theta);
                return new Session(arena, be, backend == null, f, g, mlp, seed);
            } catch (RuntimeException | Error e) {
                if (f != null) {
                    f.close();
                }
                if (backend == null && be != null) {
                    be.close();
                }
                arena.close();
                throw e;
            }
        }

    }
}
