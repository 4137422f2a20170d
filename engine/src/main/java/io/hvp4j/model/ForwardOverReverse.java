package io.hvp4j.model;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.BatchEngine;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;

/**
 * Forward-over-reverse derivatives of an MLP loss on one batch: the loss, its gradient, and curvature products
 * {@code H·V}, {@code H_O·V}, {@code H_F·V} for a block {@code V} of {@code k} tangents (Pearlmutter's
 * R-operator: tangents pushed through the forward pass and through the backward pass).
 *
 * <p>Use: {@link #setParameters}, then {@link #forwardBackward} on a batch (primal pass, kept), then any number
 * of {@link #product} calls on that batch; they share the primal pass. Changing the parameters invalidates it.
 *
 * <p>Blocks in the user layout are {@code n × k} row-major (column j is tangent j, rows in the flat parameter
 * order, as PyTorch's {@code parameters_to_vector} stacked as columns), where {@code n} is {@code P} for a
 * full product or the layer's parameter count for a layer-block product. Inside, tangents flow sample-major
 * ({@code B × (k·width)}) so that each rule is one GEMM for all {@code k} tangents.
 *
 * <p>All working memory is allocated once, in an arena this object owns, sized for {@code maxRows} samples
 * and {@code maxBlock} tangents: the primal buffers by the constructor, the tangent buffers by the first
 * {@link #product} (so that a gradient-only user never pays for them). Not thread-safe. {@link #close} frees the
 * memory; later calls throw.
 *
 * <p>On a device backend ({@link Backend#deviceMemory()}) the working memory is device memory and the
 * arguments may be host tensors: they are uploaded into (and results downloaded from) staging buffers of
 * the same capacity, so that callers see the same API on every backend.
 */
public final class ForwardOverReverse implements BatchEngine {
    private final Mlp mlp;
    private final Backend be;
    private final DType dtype;
    private final int maxRows;
    private final int maxBlock;
    private final int layers;
    private final Arena arena = Arena.ofShared();
    private final Loss.Rules loss;
    private final boolean secondDerivatives;

    private final Tensor theta;
    private final Tensor[] act;      // hidden activations A_l, l = 0..L-2
    private final Tensor[] d1;       // σ'(Z_l)
    private final Tensor[] d2;       // σ''(Z_l), null for piecewise-linear σ
    private final Tensor zScratch;   // hidden pre-activations (consumed at once)
    private final Tensor output;     // F = Z_{L-1}
    private final Tensor[] gZ;       // ∂L/∂Z_l
    private final Tensor[] gA;       // ∂L/∂A_l for hidden l
    // Tangent buffers: allocated by the first product() (see allocateTangentBuffers).
    private final Tensor[] zDot;     // blocked tangents of Z_l
    private final Tensor[] aDot;     // blocked tangents of A_l (hidden)
    private Tensor pingBuf, pongBuf;
    private Tensor wDotByRowBuf, scratchBuf;
    private Tensor blockIn, blockOut;
    private boolean tangentBuffers;
    // Staging for host arguments on a device backend (null on a host backend); vDev/outDev with the tangent buffers.
    private final Tensor xDev, yDev, gradDev;
    private Tensor vDev, outDev;

    private Tensor x;
    private int rows;
    private boolean primalReady;
    private double lastLoss = Double.NaN;

    public ForwardOverReverse(Mlp mlp, Loss loss, Backend be, DType dtype, int maxRows, int maxBlock) {
        if (maxRows < 1 || maxBlock < 1) {
            throw new IllegalArgumentException("maxRows and maxBlock must be positive");
        }
        this.mlp = mlp;
        this.be = be;
        this.dtype = dtype;
        this.maxRows = maxRows;
        this.maxBlock = maxBlock;
        this.layers = mlp.layers();
        this.secondDerivatives = !mlp.activation().piecewiseLinear();
        int L = layers;
        int maxHidden = 1;
        for (int l = 1; l < L; l++) {
            maxHidden = Math.max(maxHidden, mlp.width(l));
        }
        this.loss = loss.rules(be, arena, dtype, maxRows, mlp.outputs());
        theta = alloc(mlp.parameterCount(), 1);
        act = new Tensor[L - 1];
        d1 = new Tensor[L - 1];
        d2 = new Tensor[L - 1];
        gA = new Tensor[L - 1];
        aDot = new Tensor[L - 1];
        gZ = new Tensor[L];
        zDot = new Tensor[L];
        for (int l = 0; l < L; l++) {
            int w = mlp.width(l + 1);
            gZ[l] = alloc(maxRows, w);
            if (l < L - 1) {
                act[l] = alloc(maxRows, w);
                d1[l] = alloc(maxRows, w);
                d2[l] = secondDerivatives ? alloc(maxRows, w) : null;
                gA[l] = alloc(maxRows, w);
            }
        }
        zScratch = alloc(maxRows, maxHidden);
        output = alloc(maxRows, mlp.outputs());
        boolean staged = be.deviceMemory();
        xDev = staged ? alloc(maxRows, mlp.inputs()) : null;
        yDev = staged ? alloc(maxRows, mlp.outputs()) : null;
        gradDev = staged ? alloc(mlp.parameterCount(), 1) : null;
    }

    /** {@code t} itself if the backend can compute on it, else a copy in {@code buf} (device staging). */
    private Tensor onBackend(Tensor t, Tensor buf) {
        if (buf == null || !t.isHost()) {
            return t;
        }
        Tensor d = buf.view(0, t.rows(), t.cols());
        be.upload(t, d);
        return d;
    }

    /** Where to write a result destined for {@code t}: {@code t} itself, or a staging view to download from. */
    private static Tensor resultBuffer(Tensor t, Tensor buf) {
        return buf == null || t == null || !t.isHost() ? t : buf.view(0, t.rows(), t.cols());
    }

    /** The tangent buffers, once: products need them, the primal pass does not. */
    private void allocateTangentBuffers() {
        if (tangentBuffers) {
            return;
        }
        int L = layers;
        int maxWidth = 1;
        long maxLayerParams = 1;
        for (int l = 1; l <= L; l++) {
            maxWidth = Math.max(maxWidth, mlp.width(l));
            maxLayerParams = Math.max(maxLayerParams, (long) mlp.width(l) * mlp.width(l - 1));
        }
        for (int l = 0; l < L; l++) {
            int w = mlp.width(l + 1);
            zDot[l] = alloc(maxRows, maxBlock * w);
            if (l < L - 1) {
                aDot[l] = alloc(maxRows, maxBlock * w);
            }
        }
        pingBuf = alloc(maxRows, maxBlock * maxWidth);
        pongBuf = alloc(maxRows, maxBlock * maxWidth);
        // Blocks only: a single tangent needs neither the reordered weight tangent nor the scratch (Dense).
        long scratch = maxBlock * maxLayerParams;
        wDotByRowBuf = maxBlock > 1 ? alloc(1, Math.toIntExact(scratch)) : null;
        scratchBuf = maxBlock > 1 ? alloc(1, Math.toIntExact(scratch)) : null;
        blockIn = maxBlock > 1 ? alloc(1, Math.toIntExact((long) maxBlock * mlp.parameterCount())) : null;
        blockOut = maxBlock > 1 ? alloc(1, Math.toIntExact((long) maxBlock * mlp.parameterCount())) : null;
        if (be.deviceMemory()) {
            int blockElements = Math.toIntExact((long) maxBlock * mlp.parameterCount());
            vDev = alloc(1, blockElements);
            outDev = alloc(1, blockElements);
        }
        tangentBuffers = true;
    }

    private Tensor alloc(int r, int c) {
        return be.allocate(arena, dtype, r, c);
    }

    private static Tensor slice(Tensor buf, int r, int c) {
        return buf.view(0, r, c);
    }

    public Mlp mlp() {
        return mlp;
    }

    public DType dtype() {
        return dtype;
    }

    public int maxRows() {
        return maxRows;
    }

    public int maxBlock() {
        return maxBlock;
    }

    /**
     * Bytes of working memory this object holds now (off-heap or device), without the loss rules' buffers (at most
     * {@code 4·maxRows·K} elements): the primal buffers, and the tangent buffers once a product has run.
     */
    public long workingBytes() {
        long n = theta.size() + zScratch.size() + output.size();
        for (int l = 0; l < layers; l++) {
            n += gZ[l].size();
            if (l < layers - 1) {
                n += act[l].size() + d1[l].size() + (d2[l] == null ? 0 : d2[l].size()) + gA[l].size();
            }
        }
        if (tangentBuffers) {
            n += pingBuf.size() + pongBuf.size() + (scratchBuf == null ? 0 : scratchBuf.size())
                    + (wDotByRowBuf == null ? 0 : wDotByRowBuf.size())
                    + (blockIn == null ? 0 : blockIn.size() + blockOut.size());
            for (int l = 0; l < layers; l++) {
                n += zDot[l].size() + (l < layers - 1 ? aDot[l].size() : 0);
            }
        }
        return n * dtype.bytes();
    }

    /**
     * Bytes of working memory a {@code ForwardOverReverse} with these arguments allocates in all (primal and
     * tangent buffers), computed without allocating (so that callers can refuse a job that would not fit).
     * Equals {@link #workingBytes()} after the first product; the loss rules add at most {@code 4·maxRows·K}
     * elements.
     */
    public static long estimateWorkingBytes(Mlp mlp, DType dtype, int maxRows, int maxBlock) {
        int L = mlp.layers();
        long maxHidden = 1, maxWidth = 1, maxLayerParams = 1, n = mlp.parameterCount();
        for (int l = 1; l <= L; l++) {
            maxWidth = Math.max(maxWidth, mlp.width(l));
            if (l < L) maxHidden = Math.max(maxHidden, mlp.width(l));
            maxLayerParams = Math.max(maxLayerParams, (long) mlp.width(l) * mlp.width(l - 1));
        }
        boolean d2 = !mlp.activation().piecewiseLinear();
        for (int l = 0; l < L; l++) {
            long w = mlp.width(l + 1);
            n += (long) maxRows * w * (1 + maxBlock);
            if (l < L - 1) {
                n += (long) maxRows * w * ((d2 ? 4 : 3) + maxBlock);
            }
        }
        n += (long) maxRows * maxHidden + (long) maxRows * mlp.outputs() + 2L * maxRows * maxBlock * maxWidth;
        n += maxBlock > 1 ? 2L * maxBlock * maxLayerParams : 0;
        if (maxBlock > 1) {
            n += 2L * maxBlock * mlp.parameterCount();
        }
        return n * dtype.bytes();
    }

    /** Copies {@code values} (P elements, any dtype) into the parameters and invalidates the primal pass. */
    public void setParameters(Tensor values) {
        if (values.size() != theta.size()) {
            throw new IllegalArgumentException("expected " + theta.size() + " parameters, got " + values.size());
        }
        be.upload(values, theta);
        primalReady = false;
    }

    /**
     * The parameters (P × 1, this engine's dtype; a device tensor on a device backend); writing into them
     * requires {@link #invalidate()}.
     */
    public Tensor parameters() {
        return theta;
    }

    /** Forgets the primal pass (e.g. after the parameters were changed in place or to time a fresh product). */
    public void invalidate() {
        primalReady = false;
    }

    private Tensor weight(int l) {
        return theta.view(mlp.weightOffset(l), mlp.width(l + 1), mlp.width(l));
    }

    private Tensor bias(int l) {
        return mlp.hasBias() ? theta.view(mlp.biasOffset(l), 1, mlp.width(l + 1)) : null;
    }

    private Tensor input(int l) {
        return l == 0 ? x : slice(act[l - 1], rows, mlp.width(l));
    }

    /**
     * Primal forward and backward pass on a batch; returns {@code scale · Σ_rows ℓ}. Writes the gradient into
     * {@code grad} (P elements) unless it is null. Keeps the pass for later {@link #product} calls.
     *
     * @param x inputs, {@code b × d} with {@code b ≤ maxRows}, this engine's dtype
     * @param y targets, {@code b × K} (one-hot or probabilities for ce)
     */
    public double forwardBackward(Tensor x, Tensor y, double scale, Tensor grad) {
        if (x.cols() != mlp.inputs() || x.rows() > maxRows || x.rows() < 1 || y.rows() != x.rows()
                || y.cols() != mlp.outputs()) {
            throw new IllegalArgumentException("batch " + x + " / " + y + " does not fit " + mlp + " with at most "
                    + maxRows + " rows");
        }
        if (grad != null && grad.size() != theta.size()) {
            throw new IllegalArgumentException("gradient buffer " + grad + " needs " + theta.size() + " elements");
        }
        Tensor hostGrad = grad;
        grad = resultBuffer(grad, gradDev);
        forwardPass(x, y, scale, true);
        int L = layers;
        loss.backward(slice(gZ[L - 1], rows, mlp.outputs()));
        for (int l = L - 1; l >= 0; l--) {
            int in = mlp.width(l), out = mlp.width(l + 1);
            Tensor g = slice(gZ[l], rows, out);
            Tensor dW = grad == null ? null : grad.view(mlp.weightOffset(l), out, in);
            Tensor dB = grad == null || !mlp.hasBias() ? null : grad.view(mlp.biasOffset(l), out, 1);
            Tensor ga = l == 0 ? null : slice(gA[l - 1], rows, in);
            Dense.backward(be, g, input(l), weight(l), dW, dB, ga);
            if (l > 0) {
                Elementwise.backward(be, slice(d1[l - 1], rows, in), ga, slice(gZ[l - 1], rows, in));
            }
        }
        if (grad != hostGrad) {
            be.download(grad, hostGrad);
        }
        primalReady = true;
        return lastLoss;
    }

    /**
     * Primal forward pass only (no σ′, σ″, no backward pass) on a batch; returns {@code scale · Σ_rows ℓ}. Nothing
     * is kept for {@link #product}: the next product needs {@link #forwardBackward} again. Arguments as there.
     */
    public double forward(Tensor x, Tensor y, double scale) {
        if (x.cols() != mlp.inputs() || x.rows() > maxRows || x.rows() < 1 || y.rows() != x.rows()
                || y.cols() != mlp.outputs()) {
            throw new IllegalArgumentException("batch " + x + " / " + y + " does not fit " + mlp + " with at most "
                    + maxRows + " rows");
        }
        primalReady = false;
        forwardPass(x, y, scale, false);
        return lastLoss;
    }

    /** Layers and loss forward; with {@code derivatives} also σ′ (and σ″) for the backward and tangent rules. */
    private void forwardPass(Tensor x, Tensor y, double scale, boolean derivatives) {
        x = onBackend(x, xDev);
        y = onBackend(y, yDev);
        this.x = x;
        this.rows = x.rows();
        int L = layers;
        for (int l = 0; l < L; l++) {
            int w = mlp.width(l + 1);
            if (l < L - 1) {
                Tensor z = slice(zScratch, rows, w);
                Dense.forward(be, input(l), weight(l), bias(l), z);
                Elementwise.forward(be, mlp.activation(), z, slice(act[l], rows, w),
                        derivatives ? slice(d1[l], rows, w) : null,
                        derivatives && d2[l] != null ? slice(d2[l], rows, w) : null);
            } else {
                Dense.forward(be, input(l), weight(l), bias(l), slice(output, rows, w));
            }
        }
        lastLoss = loss.forward(slice(output, rows, mlp.outputs()), y, scale);
    }

    /** The network outputs {@code F} of the last {@link #forwardBackward} ({@code rows × K}, a view: read only). */
    public Tensor outputs() {
        requirePrimal();
        return slice(output, rows, mlp.outputs());
    }

    /** The loss of the last {@link #forwardBackward} or {@link #forward}. */
    public double lastLoss() {
        return lastLoss;
    }

    /**
     * {@code out = C·V} for the curvature {@code c} on the current batch, for the full parameter vector
     * ({@code layer < 0}) or restricted to layer {@code layer} (0-based; {@code V} and {@code out} then have the
     * layer's parameter count of rows). {@code V} and {@code out} are {@code n × k} row-major (n×1 for one vector)
     * with {@code k ≤ maxBlock}; they must not overlap. The result is the batch's contribution
     * (scaled as the loss), overwriting {@code out}.
     */
    public void product(Curvature c, int layer, Tensor v, Tensor out) {
        if (!primalReady) {
            throw new IllegalStateException("product() needs forwardBackward() on the current parameters first");
        }
        if (layer >= layers) {
            throw new IllegalArgumentException("layer " + layer + " out of range: the network has " + layers + " layers");
        }
        int first = layer < 0 ? 0 : layer;
        boolean full = layer < 0;
        int n = full ? mlp.parameterCount() : mlp.layerParameterCount(layer);
        int k = v.cols();
        if (v.rows() != n || out.rows() != n || out.cols() != k || k < 1 || k > maxBlock) {
            throw new IllegalArgumentException("product needs V and out of " + n + " x k (k <= " + maxBlock
                    + "), got " + v + " and " + out);
        }
        allocateTangentBuffers();
        Tensor hostOut = out;
        v = onBackend(v, vDev);
        out = resultBuffer(out, outDev);
        int base = mlp.layerOffset(first);
        Tensor vIn = k == 1 ? v : slice(blockIn, 1, k * n);
        Tensor res = k == 1 ? out : slice(blockOut, 1, k * n);
        if (k > 1) {
            convertLayout(v, vIn, first, full, k, true);
        }
        boolean second = c != Curvature.GAUSS_NEWTON;
        int L = layers;

        // Forward tangents, from the first layer whose parameters carry a tangent.
        for (int l = first; l < L; l++) {
            int in = mlp.width(l), w = mlp.width(l + 1);
            boolean paramTangent = full || l == first;
            Tensor wDot = paramTangent ? internal(vIn, l, base, k).view(0, k * w, in) : null;
            Tensor bDot = paramTangent && mlp.hasBias() ? internal(vIn, l, base, k).view((long) k * w * in, 1, k * w) : null;
            Tensor aDotIn = l == first ? null : slice(aDot[l - 1], rows, k * in);
            Dense.tangent(be, input(l), aDotIn, weight(l), wDot, bDot, slice(zDot[l], rows, k * w), k);
            if (l < L - 1) {
                Elementwise.tangent(be, slice(d1[l], rows, w), slice(zDot[l], rows, k * w), slice(aDot[l], rows, k * w));
            }
        }

        // Tangent of the loss's backward rule.
        int K = mlp.outputs();
        Tensor gDot = slice(pingBuf, rows, k * K);
        Tensor other = pongBuf; // Ġ_Z of layer l lives in one buffer, Ġ_A of layer l-1 is built in the other
        if (c == Curvature.FUNCTIONAL) {
            be.zero(gDot);
        } else {
            loss.tangentOfBackward(slice(zDot[L - 1], rows, k * K), gDot);
        }

        // Tangents backward, down to the first layer with a parameter tangent.
        for (int l = L - 1; l >= first; l--) {
            int in = mlp.width(l), w = mlp.width(l + 1);
            boolean wantParams = full || l == first;
            Tensor slab = wantParams ? internal(res, l, base, k) : null;
            Tensor dWDot = wantParams ? slab.view(0, k * w, in) : null;
            Tensor dBDot = wantParams && mlp.hasBias() ? slab.view((long) k * w * in, 1, k * w) : null;
            Tensor gADot = l > first ? slice(other, rows, k * in) : null;
            Tensor wDotByRow = null;
            if (second && full && l > first) {
                Tensor wDot = internal(vIn, l, base, k).view(0, k * w, in);
                if (k == 1) {
                    wDotByRow = wDot;
                } else {
                    wDotByRow = wDotByRowBuf.view(0, w, k * in);
                    be.swapLeadingAxes(wDot, k, w, in, 0, wDotByRow);
                }
            }
            Tensor aDotIn = l > first ? slice(aDot[l - 1], rows, k * in) : null;
            Dense.tangentOfBackward(be, gDot, second ? slice(gZ[l], rows, w) : null, input(l), aDotIn, weight(l),
                    wDotByRow, dWDot, dBDot, gADot, scratchBuf, k);
            if (l > first) {
                Tensor sd2 = second && d2[l - 1] != null ? slice(d2[l - 1], rows, in) : null;
                Elementwise.tangentOfBackward(be, slice(d1[l - 1], rows, in), sd2, slice(gA[l - 1], rows, in),
                        slice(zDot[l - 1], rows, k * in), gADot, gADot);
                gDot = gADot;
                other = other == pingBuf ? pongBuf : pingBuf;
            }
        }
        if (k > 1) {
            convertLayout(res, out, first, full, k, false);
        }
        if (out != hostOut) {
            be.download(out, hostOut);
        }
    }

    /** Buffers of the one-direction passes ({@link #thirdOrder}, {@link #jvp}, {@link #vjp}); allocated on first use. */
    private final class OneDirection {
        final Tensor[] z = new Tensor[layers - 1];      // hidden Z_l (recomputed: the primal pass does not keep it)
        final Tensor[] d3 = new Tensor[layers - 1];     // σ'''(Z_l), null for piecewise-linear σ
        final Tensor[] zDD = new Tensor[layers];        // Z̈_l
        final Tensor[] aDD = new Tensor[layers - 1];    // Ä_l
        final Tensor[] gZD = new Tensor[layers];        // Ġ_Z
        final Tensor[] gZDD = new Tensor[layers];       // G̈_Z
        final Tensor[] gAD = new Tensor[layers - 1];    // Ġ_A
        final Tensor[] gADD = new Tensor[layers - 1];   // G̈_A

        OneDirection() {
            for (int l = 0; l < layers; l++) {
                int w = mlp.width(l + 1);
                zDD[l] = alloc(maxRows, w);
                gZD[l] = alloc(maxRows, w);
                gZDD[l] = alloc(maxRows, w);
                if (l < layers - 1) {
                    z[l] = alloc(maxRows, w);
                    d3[l] = secondDerivatives ? alloc(maxRows, w) : null;
                    aDD[l] = alloc(maxRows, w);
                    gAD[l] = alloc(maxRows, w);
                    gADD[l] = alloc(maxRows, w);
                }
            }
        }
    }

    private OneDirection one;

    private OneDirection one() {
        if (one == null) {
            one = new OneDirection();
        }
        return one;
    }

    private void requirePrimal() {
        if (!primalReady) {
            throw new IllegalStateException("needs forwardBackward() on the current parameters first");
        }
    }

    private void requireFull(Tensor t, String what) {
        if (t.size() != theta.size() || t.dtype() != dtype) {
            throw new IllegalArgumentException(what + " must be " + theta.size() + " elements of " + dtype + ", got " + t);
        }
    }

    /** Forward tangents {@code Ż_l}, {@code Ȧ_l} of one direction {@code v} (P elements) into zDot/aDot (k = 1). */
    private void forwardTangent(Tensor v) {
        allocateTangentBuffers(); // jvp and thirdOrder may come before any product()
        for (int l = 0; l < layers; l++) {
            int in = mlp.width(l), w = mlp.width(l + 1);
            Tensor wDot = v.view(mlp.weightOffset(l), w, in);
            Tensor bDot = mlp.hasBias() ? v.view(mlp.biasOffset(l), 1, w) : null;
            Tensor aDotIn = l == 0 ? null : slice(aDot[l - 1], rows, in);
            Dense.tangent(be, input(l), aDotIn, weight(l), wDot, bDot, slice(zDot[l], rows, w), 1);
            if (l < layers - 1) {
                Elementwise.tangent(be, slice(d1[l], rows, w), slice(zDot[l], rows, w), slice(aDot[l], rows, w));
            }
        }
    }

    /**
     * The Jacobian-vector product {@code Ḟ = J·v} of the network outputs on the current batch (forward tangents
     * only: a first-order path that shares no rule with the backward passes). {@code v}: P elements; {@code fDot}:
     * {@code rows × K}, this engine's dtype.
     */
    public void jvp(Tensor v, Tensor fDot) {
        requirePrimal();
        requireFull(v, "v");
        forwardTangent(v);
        fDot.copyFrom(slice(zDot[layers - 1], rows, mlp.outputs()));
    }

    /**
     * The vector-Jacobian product {@code out = Jᵀ·gF} on the current batch: the plain backward pass (primal
     * {@code σ'} only) started from the output adjoint {@code gF} ({@code rows × K}) instead of the loss gradient.
     * {@code out}: P elements. Does not disturb the kept primal pass.
     */
    public void vjp(Tensor gF, Tensor out) {
        requirePrimal();
        requireFull(out, "out");
        OneDirection o = one();
        int L = layers;
        Tensor g = slice(o.gZD[L - 1], rows, mlp.outputs());
        g.copyFrom(gF);
        for (int l = L - 1; l >= 0; l--) {
            int in = mlp.width(l), w = mlp.width(l + 1);
            Tensor dB = mlp.hasBias() ? out.view(mlp.biasOffset(l), w, 1) : null;
            Tensor ga = l == 0 ? null : slice(o.gAD[l - 1], rows, in);
            Dense.backward(be, slice(o.gZD[l], rows, w), input(l), weight(l), out.view(mlp.weightOffset(l), w, in), dB, ga);
            if (l > 0) {
                Elementwise.backward(be, slice(d1[l - 1], rows, in), ga, slice(o.gZD[l - 1], rows, in));
            }
        }
    }

    /**
     * Third-order product on the current batch for one direction {@code v} (P elements): {@code hv = H·v} and
     * {@code d3 = D³L[v, v, ·] = ∇_θ(vᵀH(θ)v)}, the gradient of the Hessian-trace penalty (docs/theory.md §C.6), both
     * scaled as the loss. Computed exactly by pushing the direction through the forward-over-reverse pass a second
     * time (Taylor mode: {@code d3} is the second derivative in ε of the gradient at {@code θ + εv}); costs about
     * two HVPs. Returns {@code vᵀHv}. {@code v}, {@code hv}, {@code d3} are P elements of this engine's dtype and
     * must not overlap.
     */
    public double thirdOrder(Tensor v, Tensor hv, Tensor d3) {
        requirePrimal();
        requireFull(v, "v");
        requireFull(hv, "hv");
        requireFull(d3, "d3");
        OneDirection o = one();
        int L = layers;
        Activation act = mlp.activation();
        for (int l = 0; l < L - 1; l++) {
            int w = mlp.width(l + 1);
            Tensor z = slice(o.z[l], rows, w);
            Dense.forward(be, input(l), weight(l), bias(l), z);
            if (o.d3[l] != null) {
                Elementwise.thirdDerivative(act, z, slice(o.d3[l], rows, w));
            }
        }
        forwardTangent(v);
        for (int l = 0; l < L; l++) {
            int in = mlp.width(l), w = mlp.width(l + 1);
            Tensor aD = l == 0 ? null : slice(aDot[l - 1], rows, in);
            Tensor aDD = l == 0 ? null : slice(o.aDD[l - 1], rows, in);
            Dense.secondTangent(be, aD, aDD, weight(l), v.view(mlp.weightOffset(l), w, in), slice(o.zDD[l], rows, w));
            if (l < L - 1) {
                Elementwise.secondTangent(slice(d1[l], rows, w), d2[l] == null ? null : slice(d2[l], rows, w),
                        slice(zDot[l], rows, w), slice(o.zDD[l], rows, w), slice(o.aDD[l], rows, w));
            }
        }
        int K = mlp.outputs();
        loss.tangentOfBackward(slice(zDot[L - 1], rows, K), slice(o.gZD[L - 1], rows, K));
        loss.secondTangentOfBackward(slice(zDot[L - 1], rows, K), slice(o.zDD[L - 1], rows, K),
                slice(o.gZDD[L - 1], rows, K));
        for (int l = L - 1; l >= 0; l--) {
            int in = mlp.width(l), w = mlp.width(l + 1);
            Tensor wDot = v.view(mlp.weightOffset(l), w, in);
            Tensor gz = slice(gZ[l], rows, w), gzD = slice(o.gZD[l], rows, w), gzDD = slice(o.gZDD[l], rows, w);
            Tensor aD = l == 0 ? null : slice(aDot[l - 1], rows, in);
            Tensor aDD = l == 0 ? null : slice(o.aDD[l - 1], rows, in);
            Tensor gAD = l == 0 ? null : slice(o.gAD[l - 1], rows, in);
            Tensor gADD = l == 0 ? null : slice(o.gADD[l - 1], rows, in);
            Dense.tangentOfBackward(be, gzD, gz, input(l), aD, weight(l), wDot, hv.view(mlp.weightOffset(l), w, in),
                    mlp.hasBias() ? hv.view(mlp.biasOffset(l), w, 1) : null, gAD, scratchBuf, 1);
            Dense.secondTangentOfBackward(be, gzDD, gzD, gz, input(l), aD, aDD, weight(l), wDot,
                    d3.view(mlp.weightOffset(l), w, in), mlp.hasBias() ? d3.view(mlp.biasOffset(l), w, 1) : null, gADD);
            if (l > 0) {
                Tensor sd1 = slice(d1[l - 1], rows, in), sd2 = d2[l - 1] == null ? null : slice(d2[l - 1], rows, in);
                Tensor sd3 = o.d3[l - 1] == null ? null : slice(o.d3[l - 1], rows, in);
                Tensor ga = slice(gA[l - 1], rows, in), zd = slice(zDot[l - 1], rows, in);
                Elementwise.tangentOfBackward(be, sd1, sd2, ga, zd, gAD, slice(o.gZD[l - 1], rows, in));
                Elementwise.secondTangentOfBackward(sd1, sd2, sd3, ga, zd, slice(o.zDD[l - 1], rows, in), gAD, gADD,
                        slice(o.gZDD[l - 1], rows, in));
            }
        }
        return be.dot(v, hv);
    }

    /** Layer {@code l}'s slab ({@code k·params(l)} elements) of an internal-layout block. */
    private Tensor internal(Tensor block, int l, int base, int k) {
        long off = (long) k * (mlp.layerOffset(l) - base);
        return block.view(off, 1, k * mlp.layerParameterCount(l));
    }

    /**
     * Converts between the user layout ({@code n × k}, row-major) and the internal layer-major layout
     * (per layer: {@code k} weight tangents {@code (out, in)} back to back, then {@code k} bias tangents).
     */
    private void convertLayout(Tensor src, Tensor dst, int first, boolean full, int k, boolean toInternal) {
        int base = mlp.layerOffset(first);
        int last = full ? layers - 1 : first;
        for (int l = first; l <= last; l++) {
            int wCount = mlp.width(l) * mlp.width(l + 1);
            long userW = mlp.weightOffset(l) - base;
            long userB = mlp.biasOffset(l) - base;
            Tensor slab = internal(toInternal ? dst : src, l, base, k);
            Tensor user = toInternal ? src : dst;
            Tensor uW = user.reshape(1, (int) user.size()).view(userW * k, 1, wCount * k);
            Tensor iW = slab.view(0, 1, wCount * k);
            if (toInternal) {
                be.swapLeadingAxes(uW, wCount, k, 1, 0, iW);
            } else {
                be.swapLeadingAxes(iW, k, wCount, 1, 0, uW);
            }
            if (mlp.hasBias()) {
                int out = mlp.width(l + 1);
                Tensor uB = user.reshape(1, (int) user.size()).view(userB * k, 1, out * k);
                Tensor iB = slab.view((long) wCount * k, 1, out * k);
                if (toInternal) {
                    be.swapLeadingAxes(uB, out, k, 1, 0, iB);
                } else {
                    be.swapLeadingAxes(iB, k, out, 1, 0, uB);
                }
            }
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
