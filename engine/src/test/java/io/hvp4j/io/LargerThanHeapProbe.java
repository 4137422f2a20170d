package io.hvp4j.io;

import io.hvp4j.LeakProbe;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Run by {@link LargerThanHeapTest} in a JVM with a small heap: reads each data file given, computes the gradient
 * of a one-layer linear network with zero parameters and the mse loss over the whole set (batches of 1024 rows),
 * and prints {@code <kind> <sum of the gradient's entries>} per file (the parent knows the exact value), then
 * {@code other_peak_kb <KB>}: the peak of native memory allocated outside the heap (arenas; NMT's "Other"), which
 * {@code -Xmx} does not bound.
 * Arguments: {@code npy X.npy}, {@code idx IMAGES LABELS}, {@code csv D.csv}, in any number and order.
 */
public final class LargerThanHeapProbe {
    private LargerThanHeapProbe() {
    }

    /** NMT's "Other" line and the one after it: current malloc and peak (or "at peak"). */
    private static final Pattern OTHER_PEAK = Pattern.compile(
            "Other \\(reserved=\\d+KB, committed=\\d+KB\\)\\s+\\(malloc=(\\d+)KB[^)]*\\) \\((?:peak=(\\d+)KB|at peak)");

    public static void main(String[] args) throws Exception {
        try (VectorBackend be = new VectorBackend(2)) {
            for (int i = 0; i < args.length; i++) {
                try (Arena arena = Arena.ofShared()) { // closing it unmaps the file before the next one
                    String kind = args[i];
                    Dataset data = switch (kind) {
                        case "npy" -> {
                            Tensor x = Npy.readMatrix(Path.of(args[++i]), arena, DType.F32, "inputs");
                            Tensor y = Tensor.allocate(arena, DType.F32, x.rows(), 1);
                            for (int r = 0; r < x.rows(); r++) y.set(r, -1);
                            yield new Dataset(x, y, "npy");
                        }
                        case "idx" -> {
                            Path images = Path.of(args[++i]), labels = Path.of(args[++i]);
                            yield Idx.classification(images, labels, Idx.header(images).items(),
                                    (int) Idx.header(images).itemElements(), 10, arena, DType.F64);
                        }
                        case "csv" -> {
                            Csv.Columns c = Csv.read(Path.of(args[++i]), Csv.Header.AUTO, cols -> cols - 1, arena,
                                    DType.F64);
                            yield new Dataset(c.left(), c.right(), "csv");
                        }
                        default -> throw new IllegalArgumentException(kind);
                    };
                    System.out.printf(Locale.ROOT, "%s %.17g%n", kind, gradientSum(data, be));
                }
            }
        }
        String nmt = LeakProbe.nmtSummary();
        Matcher m = OTHER_PEAK.matcher(nmt);
        if (!m.find()) {
            throw new IllegalStateException("no NMT 'Other' peak (is -XX:NativeMemoryTracking=summary set?): " + nmt);
        }
        System.out.println("other_peak_kb " + (m.group(2) != null ? m.group(2) : m.group(1)));
    }

    private static double gradientSum(Dataset data, VectorBackend be) {
        Mlp mlp = new Mlp(new int[] {data.inputDimension(), data.outputDimension()}, Activation.IDENTITY, true);
        try (Arena arena = Arena.ofConfined();
             MlpObjective f = new MlpObjective(mlp, Loss.MSE, Loss.Reduction.MEAN, data, be, data.dtype(), 1024, 1)) {
            f.setParameters(Tensor.allocate(arena, data.dtype(), mlp.parameterCount(), 1));
            Tensor g = Tensor.allocate(arena, DType.F64, mlp.parameterCount(), 1);
            f.gradient(g);
            double s = 0;
            for (double v : g.toDoubleArray()) s += v;
            return s;
        }
    }
}
