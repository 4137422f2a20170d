package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.cuda.Backends;
import io.hvp4j.cuda.CudaUnavailableException;
import io.hvp4j.data.Dataset;
import io.hvp4j.data.GaussianClusters;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.GraphWeights;
import io.hvp4j.graph.Models;
import io.hvp4j.io.DataFiles;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.objective.Objective;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Everything {@link ModelOptions} describes, validated and loaded: network, parameters, data, backend. All input
 * files are read and checked by {@link #load} before anything is computed or written.
 */
final class Problem implements AutoCloseable {
    final Arena arena = Arena.ofShared();
    /** The MLP of --arch, or null with --model. */
    Mlp mlp;
    /** The network graph of --model, or null with --arch. */
    Graph graph;
    /** The option that named the network, for messages: {@code --arch 4,3,2} or {@code --model lenet5}. */
    String modelText;
    Loss loss;
    Loss.Reduction reduction;
    DType dtype;
    Dataset data;
    Tensor theta;
    int threads;
    String backendName;
    int batchRows;
    /** {@code --batch-size} as given, 0 when absent. */
    int batchRowsOption;
    long seed;
    /** {@code --force}: skip the memory and time refusals. */
    boolean force;
    /** {@code --max-time} in seconds (0: no limit). */
    double maxSeconds;
    /** Appended to a time refusal, e.g. that a checkpoint was kept. */
    String checkpointHint = "";
    private Backend backend;
    private Backend hostBackend; // for host-side linear algebra when backend is a device backend
    private MlpObjective objective;
    private GraphObjective graphObjective;
    /** {@code --spark}: the master, or null to compute in this JVM. */
    private String sparkMaster;
    private int partitions;
    private Integer threadOption;
    private String dataKey;
    private Distributed.Loader dataLoader;
    private Path graphWeights;
    private Distributed distributed;
    private Objective distributedObjective;

    private Problem() {
    }

    static Problem load(ModelOptions o) {
        return load(o, null);
    }

    /** With {@code spark} (or null): products on Spark when {@code --spark} is given. */
    static Problem load(ModelOptions o, SparkOptions spark) {
        Main.requireVectorModule();
        Problem p = new Problem();
        try {
            if (spark != null && spark.master != null) {
                p.sparkMaster = spark.master;
                p.partitions = spark.partitionCount();
                p.threadOption = o.threads;
                if (!o.backendName().equals("cpu")) {
                    throw new InvalidInputException("--spark computes with the cpu backend on the executors, not --backend "
                            + o.backend);
                }
                if (ModelOptions.isClusters(o.data)) {
                    throw new InvalidInputException("--spark takes --data gaussian:N or --inputs/--targets files");
                }
            } else if (spark != null) {
                spark.partitionCount();
            }
            p.init(o);
            if (p.sparkMaster != null && o.inputs != null) {
                p.filesLoader(o);
            }
            return p;
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    private void init(ModelOptions o) {
        if (o.modelName != null) {
            initGraph(o);
            return;
        }
        // Names and numbers first: cheap, and errors in them should not wait for file reading.
        int[] widths = o.widths();
        mlp = new Mlp(widths, o.activation(), o.bias);
        modelText = "--arch " + mlp.architecture();
        loss = o.lossFunction();
        reduction = o.reductionMode();
        dtype = o.dataType();
        Initializer init = o.initializer();
        threads = o.threadCount();
        backendName = o.backendName();
        force = o.force;
        maxSeconds = o.maxTimeSeconds();
        if (loss == Loss.CE && mlp.outputs() < 2) {
            throw new InvalidInputException("--loss ce needs at least 2 outputs, --arch " + mlp.architecture()
                    + " has " + mlp.outputs());
        }
        if (o.inputs != null || o.targets != null) {
            if (o.inputs == null) {
                throw new InvalidInputException("--targets needs --inputs");
            }
            if (o.targets == null && !DataFiles.selfContained(o.inputs)) {
                throw new InvalidInputException("--inputs " + o.inputs + " needs --targets (only a .csv or .npz"
                        + " file holds inputs and targets together)");
            }
            if (o.data != null) {
                throw new InvalidInputException("--data and --inputs/--targets exclude each other");
            }
        }
        // Parameters: P values off-heap, and P doubles of heap while they are drawn or read.
        long p = mlp.parameterCount();
        String params = "the " + p + " parameters of --arch " + mlp.architecture();
        requireMemory(p * dtype.bytes(), params, "a smaller network");
        if (o.weights == null) {
            requireHeap(8L * p, "drawing " + params + " (in float64)");
        }
        if (o.weights != null) {
            requireFile(o.weights, "--weights");
            theta = io.hvp4j.io.ModelWeights.load(o.weights, mlp, dtype, arena);
        } else {
            theta = Tensor.of(arena, dtype, mlp.parameterCount(), 1, init.initialize(mlp, o.seed));
        }
        // Data.
        if (o.inputs != null) {
            data = readData(o.inputs, o.targets);
        } else if (ModelOptions.isClusters(o.data)) {
            data = clusters(o.data, o.seed, mlp.inputs(), mlp.outputs());
        } else {
            int n = ModelOptions.gaussianSize(o.data == null ? "gaussian:256" : o.data);
            requireMemory((long) n * (mlp.inputs() + mlp.outputs()) * dtype.bytes(), "the gaussian:" + n + " data set");
            data = Dataset.gaussian(arena, dtype, n, mlp.inputs(), mlp.outputs(), loss, o.seed);
        }
        if (loss == Loss.CE) {
            Dataset.requireProbabilities(data.targets(), o.targets == null ? "targets" : o.targets.toString());
        }
        batchRows = o.batchRows(data.size());
        batchRowsOption = o.batchSize == null ? 0 : batchRows;
        seed = o.seed;
    }

    /** {@code --model NAME}: a built-in graph, its weights by name, data of its input shape. */
    private void initGraph(ModelOptions o) {
        if (o.arch != null) {
            throw new InvalidInputException("--arch and --model exclude each other");
        }
        ModelOptions.GraphModel gm = o.graphModel();
        graph = gm.graph();
        modelText = "--model " + o.modelName;
        loss = o.lossFunction();
        reduction = o.reductionMode();
        dtype = o.dataType();
        threads = o.threadCount();
        backendName = o.backendName();
        force = o.force;
        maxSeconds = o.maxTimeSeconds();
        if (o.inputs != null && o.targets == null) {
            throw new InvalidInputException("--inputs needs --targets with --model");
        }
        if (o.inputs == null && o.targets != null) {
            throw new InvalidInputException("--targets needs --inputs");
        }
        if (o.weights != null) {
            requireFile(o.weights, "--weights");
            graphWeights = o.weights;
            GraphWeights.Loaded w = GraphWeights.load(o.weights, graph, dtype, arena);
            graph = w.graph();
            theta = w.parameters();
        } else if (gm.parameters() != null) {
            if (o.init != null) {
                throw new InvalidInputException("--init does not apply to " + modelText + ": its parameters are the"
                        + " file's (use --weights to replace them)");
            }
            theta = Tensor.of(arena, dtype, graph.parameterCount(), 1, gm.parameters());
        } else {
            theta = Tensor.of(arena, dtype, graph.parameterCount(), 1, graph.initialParameters(o.seed));
        }
        if (o.inputs != null) {
            requireFile(o.inputs, "--inputs");
            requireFile(o.targets, "--targets");
            data = DataFiles.read(o.inputs, o.targets, new DataFiles.Dims(graph.inputSize(), graph.outputSize(),
                    modelText, graph.input().shape().dims()), loss, dtype, arena);
        } else if (ModelOptions.isClusters(o.data)) {
            data = clusters(o.data, o.seed, graph.inputSize(), graph.outputSize());
        } else {
            String spec = o.data == null ? "gaussian:256" : o.data;
            int n = ModelOptions.gaussianSize(spec);
            requireMemory((long) n * (graph.inputSize() + graph.outputSize()) * dtype.bytes(),
                    "the gaussian:" + n + " data set");
            data = Dataset.gaussian(arena, dtype, n, graph.inputSize(), graph.outputSize(), loss, o.seed);
        }
        if (loss == Loss.CE) {
            Dataset.requireProbabilities(data.targets(), o.targets == null ? "targets" : o.targets.toString());
        }
        batchRows = o.batchRows(data.size());
        batchRowsOption = o.batchSize == null ? 0 : batchRows;
        seed = o.seed;
    }

    /** The layerwise blocks: the MLP's layers or the graph's modules. */
    java.util.List<io.hvp4j.objective.ParameterGroup> groups() {
        return graph != null ? GraphObjective.modules(graph) : MlpObjective.layers(mlp);
    }

    /** {@code --layer I} checked against the layers (MLP) or modules (graph); -1 without it. */
    int layerIndex(Integer layer) {
        if (layer == null) {
            return -1;
        }
        int n = groups().size();
        if (layer < 0 || layer >= n) {
            throw new InvalidInputException("--layer " + layer + " is out of range: " + modelText + " has " + n
                    + (graph == null ? " Linear layers" : " modules") + " (0.." + (n - 1) + ")");
        }
        return layer;
    }

    /**
     * The parameter block a command works on: {@code --params PATTERN} (graphs), {@code --layer I}, or null for all
     * parameters. The two options exclude each other.
     */
    io.hvp4j.objective.ParameterGroup block(Integer layer, String params) {
        if (params != null) {
            if (layer != null) {
                throw new InvalidInputException("--layer and --params exclude each other");
            }
            if (graph == null) {
                throw new InvalidInputException("--params needs --model (with --arch, hvp, eigs, rank and spectrum take"
                        + " --layer I, trace takes --layerwise)");
            }
            return GraphObjective.select(graph, params);
        }
        int l = layerIndex(layer);
        return l < 0 ? null : groups().get(l);
    }

    /** The curvature operator of {@code block} (null: all parameters) on a fresh objective for blocks of maxBlock. */
    io.hvp4j.spectral.SymmetricOperator curvature(io.hvp4j.autodiff.Curvature c,
                                                 io.hvp4j.objective.ParameterGroup block, int maxBlock) {
        if (graph == null && sparkMaster == null) {
            return curvature(c, block == null ? -1 : groups().indexOf(block), maxBlock);
        }
        return io.hvp4j.spectral.Operators.curvature(anyObjective(maxBlock), c, block);
    }

    /** Rows of the operators of {@code group} (P when null). */
    int dimension(io.hvp4j.objective.ParameterGroup group) {
        return group == null ? parameterCount() : group.size();
    }

    /** Rows of the operator of {@code layer} (P when {@code layer < 0}). */
    int dimension(int layer) {
        return layer < 0 ? parameterCount() : groups().get(layer).size();
    }

    /** The curvature operator (block {@code layer} when {@code >= 0}) on a fresh objective for blocks of maxBlock. */
    io.hvp4j.spectral.SymmetricOperator curvature(io.hvp4j.autodiff.Curvature c, int layer, int maxBlock) {
        if (graph == null && sparkMaster == null) {
            return io.hvp4j.spectral.Operators.curvature(objective(maxBlock), c, layer);
        }
        Objective f = anyObjective(maxBlock);
        return io.hvp4j.spectral.Operators.curvature(f, c, layer < 0 ? null : f.groups().get(layer));
    }

    /** P of the network. */
    int parameterCount() {
        return graph != null ? graph.parameterCount() : mlp.parameterCount();
    }

    /**
     * A fresh objective of either kind (MLP or graph) with parameters set, for blocks of up to {@code maxBlock}
     * vectors; closed with this.
     */
    Objective anyObjective(int maxBlock) {
        if (sparkMaster != null) {
            return distributed(maxBlock);
        }
        if (graph == null) {
            return objective(maxBlock);
        }
        if (graphObjective != null) {
            graphObjective.close();
        }
        graphObjective = new GraphObjective(graph, loss, reduction, data, backend(), dtype, batchRows, maxBlock);
        graphObjective.setParameters(theta);
        return graphObjective;
    }

    /** The objective on Spark ({@code --spark}), with parameters set; closed with this. */
    private Objective distributed(int maxBlock) {
        String name = graph == null ? null : modelText.substring("--model ".length());
        if (name != null && !java.util.Arrays.asList(io.hvp4j.graph.Models.NAMES.split(", ")).contains(name)) {
            throw new InvalidInputException("--spark takes --arch or a built-in --model (" + io.hvp4j.graph.Models.NAMES
                    + "), not " + modelText);
        }
        if (distributed == null) {
            distributed = Distributed.load();
        }
        if (distributedObjective != null) {
            distributedObjective.close();
            distributedObjective = null;
        }
        Distributed.Data d = dataLoader != null ? new Distributed.Data(dataKey, data.size(), seed, dataLoader)
                : new Distributed.Data("gaussian:" + data.size(), data.size(), seed, null);
        distributedObjective = distributed.objective(new Distributed.Request(sparkMaster, partitions, mlp,
                name, graphWeights, loss, reduction, dtype,
                threadOption == null ? 0 : threadOption, d, batchRowsOption, maxBlock, theta));
        return distributedObjective;
    }

    /** How executors open {@code --inputs}/{@code --targets}: by the same reader, at the same (absolute) paths. */
    private void filesLoader(ModelOptions o) {
        String in = o.inputs.toAbsolutePath().toString();
        String out = o.targets == null ? null : o.targets.toAbsolutePath().toString();
        int d = data.inputDimension(), k = data.outputDimension();
        String what = modelText;
        int[] sample = graph == null ? null : graph.input().shape().dims();
        Loss l = loss;
        // The contents' digest makes the key name the rows themselves (executors' caches, rank checkpoints).
        dataKey = in + (out == null ? "" : " " + out) + " x=" + data.inputs().sha256() + " y="
                + data.targets().sha256();
        dataLoader = (a, dt) -> DataFiles.read(Path.of(in), out == null ? null : Path.of(out),
                new DataFiles.Dims(d, k, what, sample), l, dt, a);
    }

    private Dataset readData(Path inputs, Path targets) {
        requireFile(inputs, "--inputs");
        if (targets != null) {
            requireFile(targets, "--targets");
        }
        return DataFiles.read(inputs, targets, mlp, loss, dtype, arena);
    }

    /**
     * {@code clusters:M[,SEP]}: the Gaussian mixture of docs/theory.md §B.3 with one cluster per output (one-hot
     * targets), M points per cluster in the input dimension (flattened), centres of norm SEP (default 3).
     */
    private Dataset clusters(String spec, long seed, int inputs, int outputs) {
        ModelOptions.Clusters c = ModelOptions.clusters(spec);
        GaussianClusters.Spec cs = new GaussianClusters.Spec(outputs, inputs, c.separation(), c.perClass());
        requireMemory((long) cs.size() * (inputs + outputs) * dtype.bytes(), "the " + spec + " data set");
        return GaussianClusters.generate(arena, dtype, cs, seed);
    }

    static void requireFile(Path file, String option) {
        if (!Files.exists(file)) {
            throw new InvalidInputException(option + " " + file + ": no such file");
        }
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(option + " " + file + ": is a directory");
        }
    }

    Backend backend() {
        if (backend == null) {
            try {
                backend = Backends.create(backendName, threads);
            } catch (CudaUnavailableException e) {
                throw new InvalidInputException(e.getMessage());
            }
        }
        return backend;
    }

    /**
     * A backend for linear algebra on host tensors (e.g. the randomized rank's GEMMs): the model's backend when it
     * computes in host memory, else the CPU backend with the same threads. Closed with this.
     */
    Backend hostBackend() {
        Backend b = backend();
        if (!b.deviceMemory()) {
            return b;
        }
        if (hostBackend == null) {
            hostBackend = Backends.create("cpu", threads);
        }
        return hostBackend;
    }

    /** A fresh MLP objective with parameters set, for blocks of up to {@code maxBlock} vectors; closed with this. */
    private MlpObjective objective(int maxBlock) {
        requireMemory(MlpObjective.estimateWorkingBytes(mlp, dtype, batchRows, maxBlock), "the working memory for batches of " + batchRows
                + " rows and " + maxBlock + " vector(s)");
        if (objective != null) {
            objective.close();
        }
        objective = new MlpObjective(mlp, loss, reduction, data, backend(), dtype, batchRows, maxBlock);
        objective.setParameters(theta);
        return objective;
    }


    /**
     * Exit code 3 (via {@link ResourceLimitException}) when {@code bytes} exceed the memory budget
     * ({@link #memoryBudget}), unless {@code --force}.
     */
    void requireMemory(long bytes, String what) {
        requireMemory(bytes, what, force);
    }

    /** As {@link #requireMemory(long, String)}, with what to try instead ("a smaller network"). */
    void requireMemory(long bytes, String what, String instead) {
        requireMemory(bytes, what, force, instead);
    }

    static void requireMemory(long bytes, String what, boolean force) {
        requireMemory(bytes, what, force, "a smaller --batch-size or fewer vectors");
    }

    private static void requireMemory(long bytes, String what, boolean force, String instead) {
        long budget = memoryBudget();
        if (budget > 0 && bytes > budget && !force) {
            throw new ResourceLimitException(String.format(java.util.Locale.ROOT,
                    "%s needs about %s but the memory budget is %s (90%% of the machine's %s); try %s, or add"
                            + " --force to try anyway", what, bytes(bytes), bytes(budget), bytes(totalMemory()),
                    instead));
        }
    }

    /**
     * Exit code 3 when {@code bytes} of Java heap (e.g. a Lanczos basis) exceed 90 % of {@code -Xmx}, unless
     * {@code --force}.
     */
    void requireHeap(long bytes, String what) {
        long max = Runtime.getRuntime().maxMemory();
        if (max != Long.MAX_VALUE && bytes > 0.9 * max && !force) {
            throw new ResourceLimitException(what + " needs about " + bytes(bytes) + " of Java heap but the heap"
                    + " limit is " + bytes(max) + "; raise it with JAVA_OPTS=-Xmx..., or add --force to try anyway");
        }
    }

    /**
     * Off-heap memory the engine may plan to use: 90 % of the machine's (or container's) physical memory. FFM
     * allocations are not bounded by {@code -XX:MaxDirectMemorySize}; the real limit is physical memory.
     * 0 when unknown (then nothing is refused).
     */
    static long memoryBudget() {
        return (long) (0.9 * totalMemory());
    }

    static long totalMemory() {
        try {
            return ((com.sun.management.OperatingSystemMXBean)
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        } catch (RuntimeException | LinkageError e) {
            return 0;
        }
    }

    static String bytes(long b) {
        if (b >= 1L << 40) {
            return String.format(java.util.Locale.ROOT, "%.1f TiB", b / 1099511627776.0);
        }
        if (b >= 1L << 30) {
            return String.format(java.util.Locale.ROOT, "%.1f GiB", b / 1073741824.0);
        }
        if (b >= 1L << 20) {
            return String.format(java.util.Locale.ROOT, "%.1f MiB", b / 1048576.0);
        }
        return String.format(java.util.Locale.ROOT, "%.1f KiB", b / 1024.0);
    }

    /**
     * Wraps {@code inner} with the time check of {@code --max-time}. The first block computed in this run carries
     * the JIT compilation (it made the first block of a short job 30 times slower than the rest), so where it is a
     * small share of the job (under an eighth) the projection waits for the next reports: once the loop has run a
     * tenth of the limit or 2 s (whichever is less) past it, the remaining units are projected at the rate since
     * then. A first block of an eighth or more is projected at once, as are the units left when the loop has run
     * past the limit itself. A projection beyond the limit stops the loop with exit code 3 (a checkpointing loop
     * saves its work first), unless {@code --force}. A resumed run counts from the units it resumed with.
     */
    io.hvp4j.Progress timeLimited(io.hvp4j.Progress inner, String what) {
        if (force || maxSeconds <= 0 || !Double.isFinite(maxSeconds)) {
            return inner;
        }
        long start = System.nanoTime();
        double checkAfter = Math.min(2.0, maxSeconds / 10);
        boolean[] checked = new boolean[1];
        // units at the first report (a resumed run's start), then seconds and units at the first block computed
        double[] at = {-1, -1, 0};
        return (done, total) -> {
            inner.update(done, total);
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (at[0] < 0) {
                at[0] = done;
            }
            double base = at[0];
            if (done <= base || done >= total) {
                return;
            }
            double projected = Double.NaN;
            if (elapsed > maxSeconds) {
                projected = elapsed * (total - base) / (done - base);
            } else if (at[1] < 0) {
                at[1] = elapsed;
                at[2] = done;
                double share = (done - base) / (total - base);
                if (share >= 0.125 && elapsed >= checkAfter) {
                    checked[0] = true;
                    projected = elapsed / share;
                }
            } else if (!checked[0] && done > at[2] && elapsed - at[1] >= checkAfter) {
                checked[0] = true;
                projected = elapsed + (total - done) * (elapsed - at[1]) / (done - at[2]);
            }
            if (projected > maxSeconds) {
                throw new ResourceLimitException(String.format(java.util.Locale.ROOT,
                        "%s would take about %s (%d of %d done in %s), more than --max-time %s; add --force"
                                + " to run it anyway%s", what, ProgressBar.duration(projected), done, total,
                        ProgressBar.duration(elapsed), ProgressBar.duration(maxSeconds), checkpointHint));
            }
        };
    }

    /** Not enough memory (or another resource) for the request: exit code 3. */
    static final class ResourceLimitException extends RuntimeException {
        ResourceLimitException(String message) {
            super(message);
        }
    }

    @Override
    public void close() {
        if (distributedObjective != null) {
            distributedObjective.close();
        }
        if (distributed != null) {
            distributed.close();
        }
        if (objective != null) {
            objective.close();
        }
        if (graphObjective != null) {
            graphObjective.close();
        }
        if (hostBackend != null) {
            hostBackend.close();
        }
        if (backend != null) {
            backend.close();
        }
        arena.close();
    }
}
