package io.hvp4j.backend;

import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * FFM binding of CBLAS {@code cblas_sgemm}/{@code cblas_dgemm}, the in-process ceiling for the GEMM benchmarks
 * ({@code hvp4j bench --gemm} and the JMH suite); not used by the engine's computations.
 * The library is {@code $HVP4J_BLAS_LIB} if set, else the first of libopenblas.so.0, libopenblas.so, libblas.so.3
 * that loads. {@link #get()} is empty when none has the symbols; {@link #unavailableReason()} then says why.
 */
public final class OpenBlas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    private static final String[] DEFAULT_NAMES = {"libopenblas.so.0", "libopenblas.so", "libblas.so.3"};

    private static final OpenBlas INSTANCE;
    private static final String REASON;

    static {
        OpenBlas found = null;
        List<String> tried = new ArrayList<>();
        String env = System.getenv("HVP4J_BLAS_LIB");
        String[] names = env != null && !env.isBlank() ? new String[] {env} : DEFAULT_NAMES;
        for (String name : names) {
            try {
                found = new OpenBlas(name, SymbolLookup.libraryLookup(name, Arena.global()));
                break;
            } catch (IllegalArgumentException | UnsupportedOperationException | IllegalCallerException e) {
                tried.add(name + ": " + e.getMessage());
            }
        }
        INSTANCE = found;
        REASON = found != null ? null : "no CBLAS library found (tried " + String.join("; ", tried)
                + "); install libopenblas0-pthread or set HVP4J_BLAS_LIB";
    }

    private final String library;
    private final MethodHandle sgemm;
    private final MethodHandle dgemm;
    private final MethodHandle setThreads;
    private final MethodHandle coreName;

    private OpenBlas(String library, SymbolLookup lookup) {
        this.library = library;
        Linker linker = Linker.nativeLinker();
        ValueLayout i = ValueLayout.JAVA_INT;
        ValueLayout p = ValueLayout.ADDRESS;
        MemorySegment s = lookup.find("cblas_sgemm")
                .orElseThrow(() -> new IllegalArgumentException("no cblas_sgemm in " + library));
        MemorySegment d = lookup.find("cblas_dgemm")
                .orElseThrow(() -> new IllegalArgumentException("no cblas_dgemm in " + library));
        sgemm = linker.downcallHandle(s, FunctionDescriptor.ofVoid(i, i, i, i, i, i, ValueLayout.JAVA_FLOAT, p, i, p,
                i, ValueLayout.JAVA_FLOAT, p, i));
        dgemm = linker.downcallHandle(d, FunctionDescriptor.ofVoid(i, i, i, i, i, i, ValueLayout.JAVA_DOUBLE, p, i, p,
                i, ValueLayout.JAVA_DOUBLE, p, i));
        setThreads = lookup.find("openblas_set_num_threads")
                .map(f -> linker.downcallHandle(f, FunctionDescriptor.ofVoid(i)))
                .orElse(null);
        coreName = lookup.find("openblas_get_corename")
                .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(p)))
                .orElse(null);
    }

    /**
     * The system's OpenBLAS.
     *
     * @return the binding, or empty when no OpenBLAS was found
     */
    public static Optional<OpenBlas> get() {
        return Optional.ofNullable(INSTANCE);
    }

    /**
     * Why there is no binding.
     *
     * @return why {@link #get()} is empty, or null when it is not
     */
    public static String unavailableReason() {
        return REASON;
    }

    /**
     * The library loaded.
     *
     * @return its file name, e.g. {@code libopenblas.so.0}
     */
    public String library() {
        return library;
    }

    /**
     * The kernel set OpenBLAS picked for this CPU (e.g. "Zen", "Haswell", "SkylakeX"), or empty when the library
     * has no {@code openblas_get_corename}. A DYNAMIC_ARCH build picks it at load time; {@code OPENBLAS_CORETYPE}
     * overrides the choice (Debian's 0.3.21 picks its AVX2 Haswell kernels on Zen 5, which has AVX-512).
     *
     * @return the core name, or empty
     */
    public Optional<String> coreName() {
        if (coreName == null) {
            return Optional.empty();
        }
        try {
            MemorySegment s = (MemorySegment) coreName.invokeExact();
            return s.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(s.reinterpret(256).getString(0));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * The library for reports.
     *
     * @return {@link #library()} and, when known, the {@link #coreName() core}: "libopenblas.so.0 (core Zen)"
     */
    public String describe() {
        return library + coreName().map(c -> " (core " + c + ")").orElse("");
    }

    /**
     * Sets OpenBLAS's thread count (process-wide).
     *
     * @param threads the count
     * @return false when the library has no {@code openblas_set_num_threads}
     */
    public boolean setThreads(int threads) {
        if (setThreads == null) {
            return false;
        }
        try {
            setThreads.invokeExact(threads);
            return true;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} on row-major f64 host tensors ({@link Backend#gemm}'s meaning), through
     * {@code cblas_dgemm}; shapes are checked.
     *
     * @param transA whether {@code op(A) = Aᵀ}
     * @param transB whether {@code op(B) = Bᵀ}
     * @param alpha  the product's factor
     * @param a      A
     * @param b      B
     * @param beta   C's factor
     * @param c      C, overwritten
     */
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        if (a.dtype() != DType.F64 || b.dtype() != DType.F64 || c.dtype() != DType.F64) {
            throw new IllegalArgumentException("native dgemm needs f64 tensors");
        }
        int m = c.rows();
        int n = c.cols();
        int k = transA ? a.rows() : a.cols();
        if ((transA ? a.cols() : a.rows()) != m || (transB ? b.cols() : b.rows()) != k
                || (transB ? b.rows() : b.cols()) != n) {
            throw new IllegalArgumentException("gemm shapes " + a.shapeString() + " " + b.shapeString() + " "
                    + c.shapeString());
        }
        dgemm(transA, transB, m, n, k, alpha, a.segment(), Math.max(1, a.cols()), b.segment(), Math.max(1, b.cols()),
                beta, c.segment(), Math.max(1, n));
    }

    /**
     * Row-major {@code cblas_sgemm}, {@code C = alpha·op(A)·op(B) + beta·C}; segments must be native.
     *
     * @param transA whether {@code op(A) = Aᵀ}
     * @param transB whether {@code op(B) = Bᵀ}
     * @param m      rows of C
     * @param n      columns of C
     * @param k      the inner dimension
     * @param alpha  the product's factor
     * @param a      A, row-major
     * @param lda    A's row stride in elements
     * @param b      B, row-major
     * @param ldb    B's row stride in elements
     * @param beta   C's factor
     * @param c      C, row-major, overwritten
     * @param ldc    C's row stride in elements
     */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
                      MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try {
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda,
                    b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Row-major {@code cblas_dgemm}, {@code C = alpha·op(A)·op(B) + beta·C}; segments must be native.
     *
     * @param transA whether {@code op(A) = Aᵀ}
     * @param transB whether {@code op(B) = Bᵀ}
     * @param m      rows of C
     * @param n      columns of C
     * @param k      the inner dimension
     * @param alpha  the product's factor
     * @param a      A, row-major
     * @param lda    A's row stride in elements
     * @param b      B, row-major
     * @param ldb    B's row stride in elements
     * @param beta   C's factor
     * @param c      C, row-major, overwritten
     * @param ldc    C's row stride in elements
     */
    public void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, MemorySegment a, int lda,
                      MemorySegment b, int ldb, double beta, MemorySegment c, int ldc) {
        try {
            dgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda,
                    b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
