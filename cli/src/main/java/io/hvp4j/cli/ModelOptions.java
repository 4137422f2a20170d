package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
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
    // Required (checked by widths(), not by picocli, so that "bench --gemm" can share these options).
    @Option(names = "--arch", paramLabel = "d,h1,...,K",
            description = "Layer widths: input dimension, hidden widths, outputs (e.g. 784,512,512,10). Required.")
    String arch;

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

    @Option(names = "--weights", paramLabel = "W.safetensors",
            description = "PyTorch nn.Sequential state_dict: <index>.weight (out,in) and <index>.bias per Linear,"
                    + " in numeric index order (e.g. 0, 2, 4); must match --arch and --bias exactly.")
    Path weights;

    @Option(names = "--init", paramLabel = "SCHEME",
            description = "Without --weights: glorot-normal (default), glorot-uniform, he-normal, orthogonal,"
                    + " uniform-positive.")
    String init;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Seed of the initializer, the generated data and random vectors. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--inputs", paramLabel = "X.npy", description = "Inputs, N×d (needs --targets).")
    Path inputs;

    @Option(names = "--targets", paramLabel = "Y.npy",
            description = "Targets: N×K floats for mse/cosh; for ce int labels (N,) or N×K probability rows.")
    Path targets;

    @Option(names = "--data", paramLabel = "gaussian:N",
            description = "Without --inputs: generated data set (standard-normal inputs and targets, uniform"
                    + " labels for ce). Default: gaussian:256.")
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

    @Option(names = "--verbose", description = "Print stack traces of internal errors.")
    boolean verbose;

    // ---------------------------------------------------------------------------------------- parsed values

    int[] widths() {
        if (arch == null) {
            throw new InvalidInputException("Missing required option: '--arch=d,h1,...,K'");
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

    /** Sample count of {@code --data gaussian:N}. */
    static int gaussianSize(String spec) {
        String s = spec.trim();
        if (!s.regionMatches(true, 0, "gaussian:", 0, 9)) {
            throw new InvalidInputException("--data must be gaussian:N, got '" + spec + "'");
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
