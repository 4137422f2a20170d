package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Models;
import io.hvp4j.onnx.OnnxModel;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The network, loss and data options shared by {@code hvp} and {@code grad} (a picocli mixin). Values are kept
 * as strings and parsed by the engine's own parsers, so that an unknown name gets the engine's one-line message.
 */
public final class ModelOptions {
    /** The command this mixin belongs to (its stderr carries the import's warnings). */
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec mixee;

    // Required (checked by widths(), not by picocli, so that "bench --gemm" can share these options).
    @Option(names = "--arch", paramLabel = "d,h1,...,K",
            description = "Layer widths: input dimension, hidden widths, outputs (e.g. 784,512,512,10). Required.")
    String arch;

    @Option(names = "--model", paramLabel = "NAME|FILE.onnx",
            description = "A network graph instead of --arch: an ONNX file exported from PyTorch (README, Your own"
                    + " PyTorch model; parameters keep their state_dict names, the file's weights are the"
                    + " parameters), or a built-in network: lenet5 (1x28x28), resnet8, resnet8-nobn, resnet8-noskip"
                    + " (3x32x32; 10 classes). Works with every model command, train included.")
    String modelName;

    @Option(names = "--input-shape", paramLabel = "C,H,W",
            description = "With --model FILE.onnx: the per-sample input shape (without the batch axis) where the"
                    + " file leaves axes dynamic; must agree with the axes the file fixes.")
    String inputShape;

    @Option(names = "--params", paramLabel = "PATTERN",
            description = "With --model: restrict products to the parameters matching PATTERN (a name such as"
                    + " conv1.weight, a module prefix such as layers.0, or a glob such as 'layers.*.bn?.*'); the"
                    + " vectors then hold those parameters in flat order. hvp, eigs, rank, spectrum and trace (the"
                    + " block C_SS), grad (the matching entries).")
    String params;

    @Option(names = "--act", defaultValue = "relu", paramLabel = "NAME",
            description = "Activation between Linear layers: identity, relu, leaky_relu, tanh, sigmoid, softplus,"
                    + " gelu (tanh form). Default: ${DEFAULT-VALUE}.")
    String act;

    @Option(names = "--bias", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Linear layers have biases (default); --no-bias for none.")
    boolean bias;

    @Option(names = "--loss", defaultValue = "ce", paramLabel = "NAME",
            description = "mse (½‖f−y‖²), ce (softmax cross-entropy) or cosh (log cosh). Default: ${DEFAULT-VALUE}.")
    String loss;

    @Option(names = "--reduction", defaultValue = "mean", paramLabel = "mean|sum",
            description = "Mean or sum of the per-sample losses. Default: ${DEFAULT-VALUE}.")
    String reduction;

    @Option(names = "--weights", paramLabel = "W.safetensors|W.npz|W.npy",
            description = "Parameters. .safetensors or .npz: PyTorch nn.Sequential state_dict, <index>.weight (out,in)"
                    + " and <index>.bias per Linear in numeric index order (e.g. 0, 2, 4), or (.npz) unnamed arr_0,"
                    + " arr_1, ... as W0, b0, W1, b1, ...; .npy: the flat vector (P,) in state_dict order. Must match"
                    + " --arch and --bias exactly. With --model: a state_dict by parameter name (replacing an ONNX"
                    + " file's weights, e.g. a training checkpoint; BatchNorm buffers too), or the flat vector in"
                    + " the order info --model lists.")
    Path weights;

    @Option(names = "--init", paramLabel = "SCHEME",
            description = "Without --weights: glorot-normal (default), glorot-uniform, he-normal, orthogonal,"
                    + " uniform-positive.")
    String init;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Seed of the initializer, the generated data and random vectors. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--inputs", paramLabel = "X.npy|D.csv|D.npz",
            description = "Inputs, N×d (.npy, .csv or IDX unsigned-byte images ÷ 255 such as"
                    + " train-images-idx3-ubyte[.gz]; needs --targets), or inputs and targets together: a .csv whose"
                    + " first d columns are inputs and the rest targets (ce: one label column or K probability"
                    + " columns; header optional), or a .npz with arrays x and y. Large files are mapped or"
                    + " streamed batch by batch (README, Data).")
    Path inputs;

    @Option(names = "--targets", paramLabel = "Y.npy|Y.csv",
            description = "Targets: N×K floats for mse/cosh; for ce int labels (N,) or N×K probability rows (or an"
                    + " IDX label file such as train-labels-idx1-ubyte).")
    Path targets;

    @Option(names = "--data", paramLabel = "SPEC",
            description = "Without --inputs: generated data set. gaussian:N: standard-normal inputs and targets,"
                    + " uniform labels for ce. clusters:M[,SEP]: one Gaussian cluster per output, M points each,"
                    + " centres of norm SEP (default 3), unit noise, one-hot targets. Default: gaussian:256.")
    String data;

    @Option(names = "--dtype", defaultValue = "f64", paramLabel = "f32|f64",
            description = "Working precision (and of written files). Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--threads", paramLabel = "N",
            description = "Worker threads of the vector backend. Default: all processors.")
    Integer threads;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|cuda|auto",
            description = "Kernels: cpu (JDK Vector API, multi-threaded; also called vector), cuda (NVIDIA GPU"
                    + " through the CUDA driver), auto (cuda when a device is usable, else cpu), or scalar"
                    + " (reference). Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--batch-size", paramLabel = "B",
            description = "Rows per batch (bounds working memory). Default: the whole data set.")
    Integer batchSize;

    @Option(names = "--force",
            description = "Run even when the memory or time estimate exceeds the limits (otherwise exit code 3).")
    boolean force;

    @Option(names = "--max-time", defaultValue = "24h", paramLabel = "DURATION",
            description = "Refuse (exit 3) long jobs (dense assembly) projected to take longer, e.g. 90s, 30m, 2h;"
                    + " 0 for no limit. Default: ${DEFAULT-VALUE}.")
    String maxTime;

    @Option(names = "--verbose", description = "Debug log on stderr (SLF4J), and stack traces of internal errors.")
    boolean verbose;

    // ---------------------------------------------------------------------------------------- parsed values

    /** The network of {@code --model}: a built-in graph or an ONNX file, with the file's parameters (or null). */
    record GraphModel(Graph graph, double[] parameters) {
    }

    /** Whether {@code --model} names an ONNX file. */
    boolean onnx() {
        return OnnxModel.isOnnx(modelName);
    }

    /**
     * Loads {@code --model} (checked to be given); an ONNX file's warnings go to stderr. Built-in graphs have 10
     * classes and no stored parameters.
     */
    GraphModel graphModel() {
        if (!onnx()) {
            if (inputShape != null) {
                throw new InvalidInputException("--input-shape applies to --model FILE.onnx only");
            }
            return new GraphModel(Models.byName(modelName, 10), null);
        }
        Path file = Path.of(modelName);
        Problem.requireFile(file, "--model");
        OnnxModel m = OnnxModel.load(file, inputShape == null ? null : parseShape(inputShape));
        java.io.PrintWriter err = mixee != null ? mixee.commandLine().getErr()
                : new java.io.PrintWriter(System.err, true);
        for (String w : m.warnings()) {
            err.println("hvp4j: warning: " + modelName + ": " + w);
        }
        err.flush();
        return new GraphModel(m.graph(), m.parameters());
    }

    /** {@code --input-shape}: positive integers separated by commas or x. */
    static int[] parseShape(String s) {
        String[] parts = s.trim().split("\\s*[,x]\\s*");
        int[] d = new int[parts.length];
        try {
            for (int i = 0; i < d.length; i++) {
                d[i] = Integer.parseInt(parts[i]);
                if (d[i] < 1) {
                    throw new NumberFormatException();
                }
            }
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--input-shape must be positive integers such as 3,32,32, got '" + s
                    + "'");
        }
        return d;
    }

    int[] widths() {
        if (arch == null) {
            throw new InvalidInputException("Missing required option: '--arch=d,h1,...,K' (or --model NAME)");
        }
        return Mlp.parseArchitecture(arch);
    }

    Activation activation() {
        return Activation.parse(act);
    }

    Loss lossFunction() {
        return Loss.parse(loss);
    }

    Loss.Reduction reductionMode() {
        return Loss.Reduction.parse(reduction);
    }

    DType dataType() {
        return DType.parse(dtype);
    }

    Initializer initializer() {
        if (init != null && weights != null) {
            throw new InvalidInputException("--init and --weights exclude each other");
        }
        return init == null ? Initializer.GLOROT_NORMAL : Initializer.parse(init);
    }

    int threadCount() {
        if (threads == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        if (threads < 1) {
            throw new InvalidInputException("--threads must be positive, got " + threads);
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        if (threads > cpus) {
            // Allowed (a container may report fewer CPUs than it gets), but each thread has its own buffers and
            // they share the cores: 1000 threads on 2 cores took 27x the time and 4x the memory of 1.
            org.slf4j.LoggerFactory.getLogger(ModelOptions.class).warn("--threads {} is more than the {}"
                    + " processor(s) this JVM sees; the extra threads cost time and memory", threads, cpus);
        }
        return threads;
    }

    String backendName() {
        return io.hvp4j.cuda.Backends.parse(backend);
    }

    /** Rows per batch for {@code n} samples. */
    int batchRows(int n) {
        if (batchSize == null) {
            return n;
        }
        if (batchSize < 1) {
            throw new InvalidInputException("--batch-size must be positive, got " + batchSize);
        }
        return Math.min(batchSize, n);
    }

    /** {@code --max-time} in seconds (0 for none). */
    double maxTimeSeconds() {
        return parseDuration(maxTime, "--max-time");
    }

    /** A duration such as {@code 90s}, {@code 30m}, {@code 2h}, {@code 1.5h} or a plain number of seconds. */
    static double parseDuration(String s, String option) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        double unit = 1;
        if (t.endsWith("ms")) {
            unit = 1e-3;
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("s")) {
            t = t.substring(0, t.length() - 1);
        } else if (t.endsWith("m")) {
            unit = 60;
            t = t.substring(0, t.length() - 1);
        } else if (t.endsWith("h")) {
            unit = 3600;
            t = t.substring(0, t.length() - 1);
        } else if (t.endsWith("d")) {
            unit = 86400;
            t = t.substring(0, t.length() - 1);
        }
        double v;
        try {
            v = Double.parseDouble(t.trim());
        } catch (NumberFormatException e) {
            v = Double.NaN;
        }
        if (!(v >= 0) || Double.isInfinite(v) || t.isBlank() || !t.trim().matches("[0-9.eE+-]+")) {
            throw new InvalidInputException(option + " must be a duration like 90s, 30m or 2h, got '" + s + "'");
        }
        return v * unit;
    }

    /** {@code --data clusters:M[,SEP]}: M points per class, centres of norm SEP (default 3). */
    record Clusters(int perClass, double separation) {
    }

    /** Parses {@code clusters:M[,SEP]} (M an integer ≥ 1, SEP a number). */
    static Clusters clusters(String spec) {
        String[] parts = spec.trim().substring(9).split(",");
        try {
            int m = Integer.parseInt(parts[0].trim());
            if (m < 1 || parts.length > 2) {
                throw new NumberFormatException();
            }
            return new Clusters(m, parts.length == 2 ? Double.parseDouble(parts[1].trim()) : 3);
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--data clusters:M[,SEP] needs an integer M >= 1 and a number SEP, got '"
                    + spec + "'");
        }
    }

    static boolean isClusters(String spec) {
        return spec != null && spec.trim().regionMatches(true, 0, "clusters:", 0, 9);
    }

    /** Sample count of a generated {@code --data} set: N of gaussian:N, or M per class of clusters:M[,SEP]. */
    static int generatedSize(String spec, int classes) {
        if (isClusters(spec)) {
            try {
                return Math.multiplyExact(clusters(spec).perClass(), classes);
            } catch (ArithmeticException e) {
                throw new InvalidInputException("--data " + spec + ": more than 2^31 samples");
            }
        }
        return gaussianSize(spec);
    }

    /** Sample count of {@code --data gaussian:N}. */
    static int gaussianSize(String spec) {
        String s = spec.trim();
        if (!s.regionMatches(true, 0, "gaussian:", 0, 9)) {
            throw new InvalidInputException("--data must be gaussian:N or clusters:M[,SEP], got '" + spec + "'");
        }
        try {
            int n = Integer.parseInt(s.substring(9).trim());
            if (n < 1) {
                throw new InvalidInputException("--data gaussian:N needs N >= 1, got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--data gaussian:N needs an integer N, got '" + spec + "'");
        }
    }
}
