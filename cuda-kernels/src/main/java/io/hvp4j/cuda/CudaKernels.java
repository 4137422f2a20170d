package io.hvp4j.cuda;

import io.hvp4j.memory.DType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The kernel entry points of {@code src/main/cuda/hvp4j.cu} that {@link CudaBackend} launches, and the PTX
 * resources that hold them. One list, so that a test can check it against the {@code .entry} names of the PTX.
 */
public final class CudaKernels {
    /** Threads per block of the reductions; fixed, as in the kernel source (determinism). */
    static final int REDUCE_THREADS = 256;
    /** Blocks of the first reduction stage; fixed, as in the kernel source (determinism). */
    static final int REDUCE_BLOCKS = 512;

    /** Element-wise functions with a kernel {@code eval_<id>_<dtype>}: Activation ids and LogCosh. */
    static final List<String> ELEMENTWISE = List.of("identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus",
            "gelu", "logcosh");

    private static final List<String> TYPED = List.of("gemm_nn", "gemm_nt", "gemm_tn", "gemm_tt",
            "gemm_big_nn", "gemm_big_nt", "gemm_big_tn", "gemm_big_tt",
            "broadcast_multiply", "backward_tangent", "add_to_rows", "swap_leading_axes", "column_sums",
            "softmax_rows", "cross_entropy_rows", "softmax_tangent", "axpby", "scal", "dot_partial", "sum_partial",
            "sumsq_scaled_partial", "maxabs_partial");

    private static final List<String> UNTYPED = List.of("reduce_sum_final", "reduce_max_final");

    /** Resource names of the PTX: for compute capability 9.x and the portable compute_75 build. */
    static final String PTX_SM90 = "hvp4j_sm_90.ptx";
    static final String PTX_COMPUTE75 = "hvp4j_compute_75.ptx";
    static final List<String> PTX_FILES = List.of(PTX_SM90, PTX_COMPUTE75);

    private CudaKernels() {
    }

    /** {@code base_f32} or {@code base_f64}. */
    static String typed(String base, DType dtype) {
        return base + "_" + dtype.toString().toLowerCase(Locale.ROOT);
    }

    /** Every entry point the backend loads (and may launch). */
    public static List<String> names() {
        List<String> out = new ArrayList<>();
        for (DType d : DType.values()) {
            for (String t : TYPED) {
                out.add(typed(t, d));
            }
            for (String f : ELEMENTWISE) {
                out.add(typed("eval_" + f, d));
            }
        }
        out.addAll(UNTYPED);
        return out;
    }

    /** The PTX to load on a device of compute capability {@code major.minor}. */
    static String ptxFor(int major) {
        return major >= 9 ? PTX_SM90 : PTX_COMPUTE75;
    }

    /** The text of a PTX resource (NUL-terminated for cuModuleLoadData when {@code terminate}). */
    public static String ptx(String file) {
        try (InputStream in = CudaKernels.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("PTX resource io/hvp4j/cuda/" + file + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read PTX resource " + file, e);
        }
    }
}
