package io.hvp4j.backend;

import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;

/**
 * The kernels the autodiff code calls; nothing above this interface knows which implementation runs.
 *
 * <p>All tensors are dense row-major matrices ({@link Tensor}); the operands of one call share one dtype.
 * Shapes are checked and a mismatch throws {@link IllegalArgumentException}. "Blocked" arguments hold
 * {@code k} tangents per row: a tensor of {@code rows × (k·n)} whose row {@code r} is {@code k} consecutive
 * length-{@code n} pieces, the layout in which a block of tangents flows through an MLP (sample-major).
 *
 * <p>Determinism: for a fixed implementation and thread count every kernel returns the same bits on every
 * call. Reductions ({@link #dot}, {@link #sum}, {@link #nrm2}, {@link #crossEntropySum}) may round
 * differently for a different thread count or vector width; GEMM and element-wise kernels do not depend on
 * the thread count.
 *
 * <p>Memory: a host backend computes on host tensors ({@link Tensor#isHost()}); a device backend
 * ({@link #deviceMemory()} true) computes only on the device tensors its {@link #allocate} returns, and the
 * caller moves host data in and out with {@link #upload} and {@link #download}. Results of reductions
 * ({@link #dot}, {@link #sum}, ...) come back to the host as doubles in either case.
 *
 * <p>Implementations are safe for use by one calling thread at a time.
 */
public interface Backend extends AutoCloseable {
    /**
     * The implementation's name.
     *
     * @return a short name, e.g. {@code scalar} or {@code vector}
     */
    String name();

    /**
     * The parallelism.
     *
     * @return the worker threads the kernels use
     */
    int threads();

    /**
     * True when this backend computes in device memory that the host cannot address: its tensors come from
     * {@link #allocate} and host data must go through {@link #upload}/{@link #download}.
     *
     * @return whether the backend computes in device memory
     */
    default boolean deviceMemory() {
        return false;
    }

    /**
     * Copies the host tensor {@code src} into {@code dst}, a tensor of this backend (same size; the dtype is
     * converted if it differs). For a host backend this is {@link Tensor#copyFrom}.
     *
     * @param src a host tensor
     * @param dst a tensor of this backend
     */
    default void upload(Tensor src, Tensor dst) {
        dst.copyFrom(src);
    }

    /**
     * Copies {@code src}, a tensor of this backend, into the host tensor {@code dst} (same size; the dtype is
     * converted if it differs). Waits for the queued kernels that write {@code src}.
     *
     * @param src a tensor of this backend
     * @param dst a host tensor
     */
    default void download(Tensor src, Tensor dst) {
        dst.copyFrom(src);
    }

    /** Waits until every queued kernel has finished (for timing); a no-op for synchronous backends. */
    default void synchronize() {
    }

    /**
     * Allocates a zero-filled tensor in memory this backend's kernels can read.
     *
     * @param arena owns the memory
     * @param dtype the element type
     * @param rows  rows
     * @param cols  columns
     * @return the tensor (a device tensor for a device backend)
     */
    default Tensor allocate(Arena arena, DType dtype, int rows, int cols) {
        return Tensor.allocate(arena, dtype, rows, cols);
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C}, where {@code op(X)} is {@code X} or {@code Xᵀ}. With
     * {@code beta == 0} the old contents of C are ignored (NaN in C does not propagate), as in BLAS.
     *
     * @param transA whether {@code op(A) = Aᵀ}
     * @param transB whether {@code op(B) = Bᵀ}
     * @param alpha  the product's factor
     * @param a      A
     * @param b      B
     * @param beta   C's factor
     * @param c      C, {@code rows(op(A)) × cols(op(B))}, overwritten
     */
    void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c);

    /**
     * Evaluates {@code f} element by element: {@code value = f(z)}, {@code d1 = f'(z)}, {@code d2 = f''(z)}.
     * {@code d1} and {@code d2} may be null when not wanted. {@code value} may not alias {@code z}.
     *
     * @param f     the function
     * @param z     the arguments
     * @param value receives {@code f(z)}
     * @param d1    receives {@code f'(z)}, or null
     * @param d2    receives {@code f''(z)}, or null
     */
    void evaluate(ElementwiseFunction f, Tensor z, Tensor value, Tensor d1, Tensor d2);

    /**
     * Blocked product {@code out[r, j, c] = d[r, c] · t[r, j, c]} for {@code d} of {@code rows × n} and
     * {@code t}, {@code out} of {@code rows × (k·n)}. {@code out} may alias {@code t}.
     *
     * @param d   {@code rows × n}
     * @param t   {@code rows × (k·n)}
     * @param out {@code rows × (k·n)}
     */
    void broadcastMultiply(Tensor d, Tensor t, Tensor out);

    /**
     * Tangent of the backward rule of an element-wise op, blocked:
     * {@code out[r,j,c] = d2[r,c]·zDot[r,j,c]·g[r,c] + d1[r,c]·gDot[r,j,c]}. {@code d1}, {@code d2}, {@code g}
     * are {@code rows × n}; {@code zDot}, {@code gDot}, {@code out} are {@code rows × (k·n)}; {@code out}
     * may alias {@code gDot}.
     *
     * @param d1   {@code f'(z)}
     * @param d2   {@code f''(z)}
     * @param g    the backward rule's input gradient
     * @param zDot the tangents of z
     * @param gDot the tangents of g
     * @param out  receives the tangents of the output gradient
     */
    void elementwiseBackwardTangent(Tensor d1, Tensor d2, Tensor g, Tensor zDot, Tensor gDot, Tensor out);

    /**
     * Adds a vector to every row: {@code c[r, :] += v}.
     *
     * @param v {@code c.cols()} elements
     * @param c the matrix
     */
    void addToRows(Tensor v, Tensor c);

    /**
     * {@code out = alpha·(column sums of g) + beta·out}.
     *
     * @param alpha the sums' factor
     * @param g     the matrix
     * @param beta  out's factor
     * @param out   {@code g.cols()} elements
     */
    void columnSums(double alpha, Tensor g, double beta, Tensor out);

    /**
     * Row-wise softmax: {@code p[r, :] = softmax(f[r, :])}, computed with the row maximum subtracted.
     *
     * @param f the logits
     * @param p receives the probabilities (the shape of f)
     */
    void softmaxRows(Tensor f, Tensor p);

    /**
     * {@code Σ_r (logsumexp(f[r,:]) − Σ_c y[r,c]·f[r,c])}: the summed cross-entropy of logits {@code f}
     * against probability (or one-hot) targets {@code y} whose rows sum to one.
     *
     * @param f the logits
     * @param y the targets (the shape of f)
     * @return the summed cross-entropy
     */
    double crossEntropySum(Tensor f, Tensor y);

    /**
     * Blocked tangent of the softmax, i.e. the CE Hessian applied to {@code fDot}:
     * {@code out[r,j,:] = alpha·(p[r,:]⊙fDot[r,j,:] − p[r,:]·⟨p[r,:], fDot[r,j,:]⟩)}.
     *
     * @param alpha the factor
     * @param p     the probabilities, {@code rows × K}
     * @param fDot  the logit tangents, {@code rows × (k·K)}
     * @param out   receives the product, {@code rows × (k·K)}
     */
    void softmaxTangent(double alpha, Tensor p, Tensor fDot, Tensor out);

    /**
     * Swaps the two leading axes of a 3-D array: {@code dst[b][a][c] = src[a][b][c] + beta·dst[b][a][c]} for
     * {@code src} of logical shape {@code (d0, d1, d2)} stored flat. With {@code d2 == 1} this is a transpose.
     *
     * @param src  {@code d0·d1·d2} elements
     * @param d0   the first axis
     * @param d1   the second axis
     * @param d2   the third axis
     * @param beta dst's factor
     * @param dst  {@code d0·d1·d2} elements, shape {@code (d1, d0, d2)}
     */
    void swapLeadingAxes(Tensor src, int d0, int d1, int d2, double beta, Tensor dst);

    /**
     * The dot product.
     *
     * @param x a tensor
     * @param y a tensor of the same size
     * @return {@code Σ x_i y_i}
     */
    double dot(Tensor x, Tensor y);

    /**
     * {@code y = alpha·x + y}.
     *
     * @param alpha x's factor
     * @param x     a tensor
     * @param y     a tensor of the same size, updated
     */
    void axpy(double alpha, Tensor x, Tensor y);

    /**
     * {@code y = alpha·x + beta·y}.
     *
     * @param alpha x's factor
     * @param x     a tensor
     * @param beta  y's factor
     * @param y     a tensor of the same size, updated
     */
    void axpby(double alpha, Tensor x, double beta, Tensor y);

    /**
     * {@code x = alpha·x}.
     *
     * @param alpha the factor
     * @param x     the tensor, updated
     */
    void scal(double alpha, Tensor x);

    /**
     * The Euclidean norm, computed without overflow or underflow for finite input.
     *
     * @param x a tensor
     * @return {@code ‖x‖₂}
     */
    double nrm2(Tensor x);

    /**
     * The sum.
     *
     * @param x a tensor
     * @return {@code Σ x_i}
     */
    double sum(Tensor x);

    /**
     * {@code dst = src}.
     *
     * @param src a tensor
     * @param dst a tensor of the same dtype and size
     */
    default void copy(Tensor src, Tensor dst) {
        ArgumentChecks.checkSameSize(src, dst);
        ArgumentChecks.checkDType(src, dst);
        dst.copyFrom(src);
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i in [0, parts)}, on this backend's threads where it has
     * several (the default runs them in order on the caller). ArgumentChecks called from inside a part run on that part's
     * thread alone, so parts must write disjoint memory and must not depend on one another. A part always gets the
     * same work for the same arguments: results depend on {@code parts}, never on scheduling. A failing part's
     * exception is rethrown here once all parts have stopped.
     *
     * @param parts the number of parts
     * @param body  the work of part {@code i}
     */
    default void parallel(int parts, java.util.function.IntConsumer body) {
        for (int i = 0; i < parts; i++) {
            body.accept(i);
        }
    }

    /**
     * Direct convolution kernels on host heap arrays, for the graph's convolutions with stride 1; null when this
     * backend has none (the convolution then runs as im2col and {@link #gemm}).
     *
     * @return the kernels, or null
     */
    default ConvolutionKernels convolution() {
        return null;
    }

    /**
     * Per-channel maps and sums over runs of host tensors (BatchNorm's rules); the scalar reference unless the
     * backend has faster ones. Only for host tensors.
     *
     * @return the kernels, never null
     */
    default PlaneKernels planes() {
        return PlaneKernels.SCALAR;
    }

    /**
     * Sets every element to zero.
     *
     * @param t the tensor
     */
    default void zero(Tensor t) {
        t.zero();
    }

    /** Releases worker threads; tensors are owned by their arenas, not by the backend. */
    @Override
    default void close() {
    }
}
