package io.hvp4j.graph;

import io.hvp4j.backend.Backend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

/**
 * The buffers of one node as its rules see them (layouts in {@link Op}). The executor fills the fields before each
 * rule; a rule reads its inputs and writes only the outputs that rule defines. Not thread-safe; owned by one
 * {@link GraphEngine}.
 */
public final class OpContext {
    Backend be;
    DType dtype;
    int rows;
    int k;
    Shape[] inShape;
    boolean[] batched;
    Shape outShape;
    Tensor[] in;
    Tensor[] inDot;
    Tensor[] inGrad;
    Tensor[] inGradDot;
    Tensor out;
    Tensor outDot;
    Tensor outGrad;
    Tensor outGradDot;
    // Second-order (third-order pass) buffers, k = 1: null outside that pass.
    Tensor[] inDDot;
    Tensor[] inGradDDot;
    Tensor outDDot;
    Tensor outGradDDot;
    Tensor[] state;
    Tensor scratch;

    OpContext() {
    }

    public Backend backend() {
        return be;
    }

    public DType dtype() {
        return dtype;
    }

    /** Samples in the batch. */
    public int rows() {
        return rows;
    }

    /** Tangents in the block. */
    public int k() {
        return k;
    }

    public int inputs() {
        return in.length;
    }

    public Shape inShape(int i) {
        return inShape[i];
    }

    public boolean batched(int i) {
        return batched[i];
    }

    public Shape outShape() {
        return outShape;
    }

    public Tensor in(int i) {
        return in[i];
    }

    /** Tangent block of input {@code i}, or null (a zero tangent). */
    public Tensor inDot(int i) {
        return inDot[i];
    }

    /** Where the adjoint of input {@code i} goes, or null when it is not wanted. */
    public Tensor inGrad(int i) {
        return inGrad[i];
    }

    /** Where the adjoint's tangent block of input {@code i} goes, or null when it is not wanted. */
    public Tensor inGradDot(int i) {
        return inGradDot[i];
    }

    public Tensor out() {
        return out;
    }

    public Tensor outDot() {
        return outDot;
    }

    public Tensor outGrad() {
        return outGrad;
    }

    public Tensor outGradDot() {
        return outGradDot;
    }

    /**
     * Second tangent of input {@code i} in the third-order pass ({@code rows × n}, k = 1), or null (zero): always null
     * for an unbatched input, since parameters move linearly ({@code θ + εv}).
     */
    public Tensor inDDot(int i) {
        return inDDot == null ? null : inDDot[i];
    }

    /** Where the second tangent of input {@code i}'s adjoint goes in the third-order pass, or null when not wanted. */
    public Tensor inGradDDot(int i) {
        return inGradDDot == null ? null : inGradDDot[i];
    }

    /** The output's second tangent ({@code rows × n}), written by {@link Op#secondTangent}. */
    public Tensor outDDot() {
        return outDDot;
    }

    /** The second tangent of the output's adjoint ({@code rows × n}), read by {@link Op#secondTangentOfBackward}. */
    public Tensor outGradDDot() {
        return outGradDDot;
    }

    /**
     * A copy of this context whose first-order slots hold the second-order buffers ({@code inDot ← inDDot},
     * {@code outDot ← outDDot}, {@code outGradDot ← outGradDDot}, {@code inGradDot ← inGradDDot}): for an op whose
     * Jacobian does not depend on its inputs, the second-order rules are its first-order rules applied to these.
     */
    public OpContext secondAsFirst() {
        OpContext c = new OpContext();
        c.be = be;
        c.dtype = dtype;
        c.rows = rows;
        c.k = 1;
        c.inShape = inShape;
        c.batched = batched;
        c.outShape = outShape;
        c.in = in;
        int m = in.length;
        c.inDot = inDDot == null ? new Tensor[m] : inDDot.clone();
        c.inGrad = inGrad;
        c.inGradDot = inGradDDot == null ? new Tensor[m] : inGradDDot.clone();
        c.out = out;
        c.outDot = outDDot;
        c.outGrad = outGrad;
        c.outGradDot = outGradDDot;
        c.state = state;
        c.scratch = scratch;
        return c;
    }

    /** State buffer {@code j} ({@code rows × stateSizes[j]}), written by forward, read by the later rules. */
    public Tensor state(int j) {
        return state[j];
    }

    /** Elements {@code [offset, offset + rows·cols)} of the shared scratch as a {@code rows × cols} matrix (within {@link Op#scratchSize}). */
    public Tensor scratch(long offset, int rows, int cols) {
        return scratch.view(offset, rows, cols);
    }
}
