package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.MlpObjective;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.cuda.Backends;
import io.hvp4j.cuda.CudaUnavailableException;
import io.hvp4j.data.Dataset;
import io.hvp4j.io.Npy;
import io.hvp4j.io.NpyArray;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Everything {@link ModelOptions} describes, validated and loaded: network, parameters, data, backend. All input
 * files are read and checked by {@link #load} before anything is computed or written.
 */
final class Problem implements AutoCloseable {
    final Arena arena = Arena.ofShared();
    Mlp mlp;
    Loss loss;
    Loss.Reduction reduction;
    DType dtype;
    Dataset data;
    Tensor theta;
    int threads;
    String backendName;
    int batchRows;
    private Backend backend;
    private Backend hostBackend; // for host-side linear algebra when backend is a device backend
    private MlpObjective objective;

    private Problem() {
    }

    static Problem load(ModelOptions o) {
        Main.requireVectorModule();
        Problem p = new Problem();
        try {
            p.init(o);
            return p;
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    private void init(ModelOptions o) {
        // Names and numbers first: cheap, and errors in them should not wait for file reading.
        int[] widths = o.widths();
        mlp = new Mlp(widths, o.activation(), o.bias);
        loss = o.lossFunction();
        reduction = o.reductionMode();
        dtype = o.dataType();
        Initializer init = o.initializer();
        threads = o.threadCount();
        backendName = o.backendName();
        if (loss == Loss.CE && mlp.outputs() < 2) {
            throw new InvalidInputException("--loss ce needs at least 2 outputs, --arch " + mlp.architecture()
                    + " has " + mlp.outputs());
        }
        if (o.inputs != null || o.targets != null) {
            if (o.inputs == null || o.targets == null) {
                throw new InvalidInputException("--inputs and --targets must be given together");
            }
            if (o.data != null) {
                throw new InvalidInputException("--data and --inputs/--targets exclude each other");
            }
        }
        // Parameters.
        if (o.weights != null) {
            requireFile(o.weights, "--weights");
            theta = Weights.load(o.weights, mlp, dtype, arena);
        } else {
            theta = Tensor.of(arena, dtype, mlp.parameterCount(), 1, init.initialize(mlp, o.seed));
        }
        // Data.
        if (o.inputs != null) {
            data = readData(o.inputs, o.targets);
        } else {
            int n = ModelOptions.gaussianSize(o.data == null ? "gaussian:256" : o.data);
            requireMemory((long) n * (mlp.inputs() + mlp.outputs()) * dtype.bytes(), "the gaussian:" + n + " data set");
            data = Dataset.gaussian(arena, dtype, n, mlp.inputs(), mlp.outputs(), loss, o.seed);
        }
        if (loss == Loss.CE) {
            Dataset.requireProbabilities(data.targets(), o.targets == null ? "targets" : o.targets.toString());
        }
        batchRows = o.batchRows(data.size());
    }

    private Dataset readData(Path inputs, Path targets) {
        requireFile(inputs, "--inputs");
        requireFile(targets, "--targets");
        Tensor x = Npy.readMatrix(inputs, arena, dtype, "inputs");
        if (x.cols() != mlp.inputs()) {
            throw new InvalidInputException(inputs + " (inputs): has " + x.cols() + " column(s) but --arch "
                    + mlp.architecture() + " has " + mlp.inputs() + " inputs");
        }
        Tensor y;
        int k = mlp.outputs();
        if (loss == Loss.CE && rank(targets) == 1) {
            int[] labels = Npy.readLabels(targets);
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] >= k) {
                    throw new InvalidInputException(targets + " (labels): label " + labels[i] + " at index " + i
                            + " is not below the " + k + " outputs of --arch " + mlp.architecture());
                }
            }
            y = Dataset.oneHot(arena, dtype, labels, k);
        } else {
            y = Npy.readMatrix(targets, arena, dtype, "targets");
            if (y.cols() != k) {
                throw new InvalidInputException(targets + " (targets): has " + y.cols() + " column(s) but --arch "
                        + mlp.architecture() + " has " + k + " outputs"
                        + (loss == Loss.CE ? " (for ce give labels (N,) or N×K probability rows)" : ""));
            }
        }
        if (x.rows() != y.rows()) {
            throw new InvalidInputException(inputs + " has " + x.rows() + " rows but " + targets + " has "
                    + y.rows());
        }
        return new Dataset(x, y, inputs.toString());
    }

    /** Rank of an npy file (reads it into a scratch arena; target files are small). */
    private static int rank(Path file) {
        try (Arena tmp = Arena.ofConfined()) {
            NpyArray a = Npy.read(file, tmp);
            return a.rank();
        }
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

    /** A fresh objective with parameters set, for blocks of up to {@code maxBlock} vectors; closed with this. */
    MlpObjective objective(int maxBlock) {
        requireMemory(io.hvp4j.autodiff.ForwardOverReverse.estimateWorkingBytes(mlp, dtype, batchRows, maxBlock), "the working memory for batches of " + batchRows
                + " rows and " + maxBlock + " vector(s)");
        if (objective != null) {
            objective.close();
        }
        objective = new MlpObjective(mlp, loss, reduction, data, backend(), dtype, batchRows, maxBlock);
        objective.setParameters(theta);
        return objective;
    }


    /** Exit code 3 (via {@link ResourceLimitException}) when {@code bytes} clearly exceed the machine's memory. */
    static void requireMemory(long bytes, String what) {
        long total;
        try {
            total = ((com.sun.management.OperatingSystemMXBean)
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        } catch (RuntimeException | LinkageError e) {
            return;
        }
        if (total > 0 && bytes > 0.9 * total) {
            throw new ResourceLimitException(String.format(java.util.Locale.ROOT,
                    "%s needs about %.1f GiB but the machine has %.1f GiB of memory (try a smaller --batch-size)",
                    what, bytes / 1073741824.0, total / 1073741824.0));
        }
    }

    /** Not enough memory (or another resource) for the request: exit code 3. */
    static final class ResourceLimitException extends RuntimeException {
        ResourceLimitException(String message) {
            super(message);
        }
    }

    @Override
    public void close() {
        if (objective != null) {
            objective.close();
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
