package io.hvp4j.cli;

import io.hvp4j.random.Rng;
import io.hvp4j.InvalidInputException;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.io.Npy;
import io.hvp4j.io.NpyArray;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "hvp", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "Curvature-vector products H·V, H_O·V or H_F·V of the loss (written as .npy).",
        sortOptions = false,
        description = {
            "Exact curvature-vector products C·V of the loss over the whole data set, C = H (Hessian),"
                    + " H_O (Gauss-Newton) or H_F (functional part), by forward-over-reverse differentiation.",
            "V is read from --vector, shape (P,) or (P,k), rows in PyTorch parameters_to_vector order"
                    + " (per Linear: weight (out,in) row-major, then bias). The result has V's shape and the"
                    + " dtype of --dtype. Blocks are processed 16 vectors at a time.",
            "Without --vector, V is one standard-normal vector drawn from --seed (SplittableRandom(seed ^"
                    + " 0x9E3779B97F4A7C15), Marsaglia polar method), of P rows, or of the layer's parameter"
                    + " count with --layer.",
            "Prints one line: P, k, product, loss, time of the products in ms, Frobenius norm of the result."})
final class HvpCommand implements Callable<Integer> {
    /** Most vectors pushed through the network at once (bounds working memory to ~16 tangents). */
    static final int MAX_BLOCK = 16;
    static final long VECTOR_SEED_MIX = 0x9E3779B97F4A7C15L;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Mixin
    SparkOptions spark;

    @Option(names = "--vector", paramLabel = "V.npy|V.safetensors",
            description = "Vectors V: (P,) or (P,k); with --layer also the layer's parameter count of rows. With"
                    + " --model also .safetensors by parameter name (each in its shape, or (k, ...) for k"
                    + " vectors; with --layer/--params the block's parameters); a missing or extra name is an"
                    + " error.")
    Path vector;

    @Option(names = "--layer", paramLabel = "I",
            description = "Apply the diagonal block of Linear layer I (0-based; with --model: module I, in"
                    + " parameter order) only. V may have P rows (the"
                    + " layer's rows are used; the result has P rows, zero outside the layer) or exactly the"
                    + " layer's parameter count of rows.")
    Integer layer;

    @Option(names = "--product", defaultValue = "hessian", paramLabel = "NAME",
            description = "hessian, ggn (Gauss-Newton H_O) or functional (H_F = H - H_O). Default: ${DEFAULT-VALUE}.")
    String product;

    @Option(names = "--out", required = true, paramLabel = "HV.npy|HV.safetensors",
            description = "Where to write C·V (atomic): .npy in the rows of V, or with --model .safetensors by"
                    + " parameter name, as --vector.")
    Path out;

    /** V as read, and whether the file was 1-d. */
    record VectorFile(Tensor values, boolean oneDimensional) {
    }

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        Curvature curvature = Curvature.parse(product);
        Main.requireWritable(out, "--out");
        VectorFiles.check(out, model, "--out");
        VectorFiles.check(vector, model, "--vector");
        try (Problem p = Problem.load(model, spark)) {
            int P = p.parameterCount();
            java.util.List<ParameterGroup> groups = p.groups();
            ParameterGroup group = p.block(layer, model.params);
            int layerRows = group == null ? P : group.size();
            VectorFile vf;
            if (vector != null && VectorFiles.named(vector)) {
                Problem.requireFile(vector, "--vector");
                Tensor t = VectorFiles.readNamed(vector, p, group);
                vf = new VectorFile(t, t.cols() == 1);
            } else if (vector != null) {
                Problem.requireFile(vector, "--vector");
                vf = readVector(vector, p.arena, p.dtype);
            } else {
                vf = new VectorFile(randomVector(p.arena, p.dtype, layerRows, model.seed), true);
            }
            Tensor v = vf.values();
            int n = v.rows(), k = v.cols();
            boolean embed; // V has P rows but only the layer's rows are used
            if (group == null) {
                if (n != P) {
                    throw new InvalidInputException(vector + " (vector): has " + n + " rows but " + p.modelText
                            + " has P = " + P + " parameters" + layerHint(groups, n));
                }
                embed = false;
            } else if (n == layerRows) {
                embed = false;
            } else if (n == P && group.offset() >= 0) {
                embed = true;
            } else {
                throw new InvalidInputException(vector + " (vector): has " + n + " rows; with " + (layer != null
                        ? "--layer " + layer : "--params " + model.params) + " it needs P = " + P + " or the block's "
                        + layerRows + " parameters");
            }
            Tensor vIn = embed ? v.view(group.offset() * k, layerRows, k) : v;
            Tensor result = Tensor.allocate(p.arena, p.dtype, n, k);
            Tensor resOut = embed ? result.view(group.offset() * k, layerRows, k) : result;

            int block = Math.min(k, MAX_BLOCK);
            Objective obj = p.anyObjective(block);
            double lossValue = obj.loss();
            long t0 = System.nanoTime();
            applyBlocked(obj, curvature, group, vIn, resOut, block, p.arena);
            double ms = (System.nanoTime() - t0) / 1e6;
            double norm = 0;
            for (long i = 0, m = result.size(); i < m; i++) {
                double x = result.get(i);
                norm += x * x;
            }
            norm = Math.sqrt(norm);
            if (!Double.isFinite(norm)) {
                throw new InvalidInputException("the product is not finite (overflow in " + p.dtype
                        + "?); nothing written");
            }
            VectorFiles.write(out, p, embed ? null : group, result, vf.oneDimensional());
            stdout.printf(Locale.ROOT, "hvp: P=%d k=%d%s product=%s dtype=%s backend=%s threads=%d loss=%.10g"
                            + " time=%.3f ms ||HV||=%.10g -> %s%n",
                    P, k, group == null ? "" : (layer != null ? " layer=" + layer : " params=" + group.name())
                            + (embed ? " (P rows)" : " (layer rows)"),
                    curvature.id(), p.dtype, p.backend().name(), p.backend().threads(), lossValue, ms, norm, out);
            stdout.flush();
            return 0;
        }
    }

    private static String layerHint(java.util.List<ParameterGroup> groups, int n) {
        for (int l = 0; l < groups.size(); l++) {
            if (groups.get(l).size() == n) {
                return " (that is layer " + l + "'s parameter count: add --layer " + l + ")";
            }
        }
        return "";
    }

    /** {@code out = C·V}, at most {@code block} columns at a time. */
    static void applyBlocked(Objective obj, Curvature c, ParameterGroup layer, Tensor v, Tensor out, int block,
                             Arena arena) {
        int n = v.rows(), k = v.cols();
        if (k <= block) {
            obj.apply(c, layer, v, out);
            return;
        }
        try (Arena tmp = Arena.ofConfined()) {
            Tensor vb = Tensor.allocate(tmp, v.dtype(), n, block);
            Tensor ob = Tensor.allocate(tmp, out.dtype(), n, block);
            for (int j0 = 0; j0 < k; j0 += block) {
                int kc = Math.min(block, k - j0);
                Tensor vc = kc == block ? vb : vb.view(0, n, kc);
                Tensor oc = kc == block ? ob : ob.view(0, n, kc);
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < kc; j++) vc.set(r, j, v.get(r, j0 + j));
                }
                obj.apply(c, layer, vc, oc);
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < kc; j++) out.set(r, j0 + j, oc.get(r, j));
                }
            }
        }
    }

    /** Reads V as a (P,) or (P,k) array of any numeric npy type, converted to {@code dtype}, all finite. */
    static VectorFile readVector(Path file, Arena arena, DType dtype) {
        String label = file + " (vector)";
        try (Arena tmp = Arena.ofConfined()) {
            NpyArray a = Npy.read(file, tmp);
            long[] shape = a.shape();
            if (shape.length != 1 && shape.length != 2) {
                throw new InvalidInputException(label + ": expected shape (P,) or (P, k), got "
                        + Arrays.toString(shape));
            }
            long rows = shape[0], cols = shape.length == 2 ? shape[1] : 1;
            if (rows < 1 || cols < 1) {
                throw new InvalidInputException(label + ": is empty (shape " + Arrays.toString(shape) + ")");
            }
            if (rows > Integer.MAX_VALUE - 8 || cols > Integer.MAX_VALUE - 8 || rows * cols > Integer.MAX_VALUE - 8) {
                throw new InvalidInputException(label + ": shape " + Arrays.toString(shape) + " is too large");
            }
            Tensor t = Tensor.allocate(arena, dtype, (int) rows, (int) cols);
            for (long i = 0, m = t.size(); i < m; i++) {
                double x = a.getDouble(i);
                if (!Double.isFinite(x) || (dtype == DType.F32 && Float.isInfinite((float) x))) {
                    throw new InvalidInputException(label + ": " + (Double.isNaN(x) ? "NaN" : !Double.isFinite(x)
                            ? (x > 0 ? "+Inf" : "-Inf") : "value " + x + " overflows f32") + " at row " + i / cols
                            + (cols > 1 ? ", column " + i % cols : "") + " (vectors must be finite)");
                }
                t.set(i, x);
            }
            return new VectorFile(t, shape.length == 1);
        }
    }

    /** The documented random vector for a seed. */
    static Tensor randomVector(Arena arena, DType dtype, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed ^ VECTOR_SEED_MIX);
        Tensor t = Tensor.allocate(arena, dtype, n, 1);
        for (int i = 0; i < n; i++) t.set(i, Rng.gaussian(rng));
        return t;
    }
}
