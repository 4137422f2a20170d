package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.graph.Graph.Kind;
import io.hvp4j.graph.Graph.Node;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.lang.foreign.Arena;
import java.util.BitSet;
import java.util.List;

/**
 * Forward-over-reverse derivatives of a loss over any {@link Graph} on one batch: the loss, its gradient, and the
 * curvature products {@code H·V}, {@code H_O·V} (Gauss–Newton), {@code H_F·V} for blocks of {@code k} tangents,
 * for all parameters or a group of them (Pearlmutter's R-operator: tangents pushed through the forward pass and
 * through the backward pass, one rule table per op).
 *
 * <p>Use: {@link #setParameters}, {@link #forwardBackward} on a batch (the primal pass is kept), then any number of
 * {@link #product} calls, which share it. Vectors are in the user layout: {@code n × k} row-major, column j is
 * tangent j, rows in the flat parameter order ({@code torch.nn.utils.parameters_to_vector}), {@code n = P} or the
 * group's parameter count (its parameters in flat order).
 *
 * <p>Memory: buffers for {@code maxRows} samples and {@code maxBlock} tangents are allocated once in an arena this
 * object owns (the tangent buffers at the first product). Not thread-safe. {@link #close} frees everything; later
 * calls throw {@link IllegalStateException}. Host backends only: a device backend is refused, naming the first op
 * without a verified device kernel (none has one yet).
 */
public final class GraphEngine implements io.hvp4j.autodiff.BatchEngine {
    private final Graph graph;
    private final Backend be;
    private final DType dtype;
    private final int maxRows, maxBlock;
    private final Arena arena = Arena.ofShared();
    private final Loss.Rules loss;
    private final List<Node> nodes;
    private final int slots;
    private final boolean[] requiresGrad;  // by value id: depends on a parameter (or is one)
    private final Tensor theta, gradBuf;
    private final Tensor[] primal, grad, dot, gradDot;
    private final Tensor[][] state;
    private final OpContext ctx = new OpContext();
    private Tensor scratch, accum;
    private boolean tangentBuffers;
    private long scratchElements;
    private Tensor x;
    private int rows;
    private boolean primalReady;
    private double lastLoss = Double.NaN;
    private boolean closed;

    public GraphEngine(Graph graph, Loss loss, Backend be, DType dtype, int maxRows, int maxBlock) {
        if (maxRows < 1 || maxBlock < 1) {
            throw new IllegalArgumentException("maxRows and maxBlock must be positive");
        }
        if (be.deviceMemory()) {
            String op = graph.nodes().isEmpty() ? "graph" : graph.nodes().get(0).op().type();
            throw new InvalidInputException("op " + op + " has no verified kernel on the " + be.name()
                    + " backend; graphs run on the CPU backends");
        }
        this.graph = graph;
        this.be = be;
        this.dtype = dtype;
        this.maxRows = maxRows;
        this.maxBlock = maxBlock;
        this.nodes = graph.nodes();
        this.slots = graph.valueSlots();
        this.loss = loss.rules(be, arena, dtype, maxRows, graph.outputSize());
        requiresGrad = new boolean[slots];
        for (Value p : graph.parameters()) {
            requiresGrad[p.id()] = true;
        }
        for (Node n : nodes) {
            for (Value v : n.inputs()) {
                requiresGrad[n.output().id()] |= requiresGrad[v.id()];
            }
        }
        int P = graph.parameterCount();
        theta = be.allocate(arena, dtype, 1, Math.max(P, 1));
        gradBuf = be.allocate(arena, dtype, 1, Math.max(P, 1));
        primal = new Tensor[slots];
        grad = new Tensor[slots];
        dot = new Tensor[slots];
        gradDot = new Tensor[slots];
        state = new Tensor[slots][];
        for (int i = 0; i < graph.parameters().size(); i++) {
            Value p = graph.parameters().get(i);
            int n = p.shape().intSize();
            primal[p.id()] = theta.view(graph.offset(i), 1, n);
            grad[p.id()] = gradBuf.view(graph.offset(i), 1, n);
        }
        for (Value v : graph.values()) {
            if (v.kind() == Kind.CONSTANT) {
                Tensor host = Tensor.of(arena, dtype, 1, v.shape().intSize(), v.constant);
                primal[v.id()] = host;
            } else if (v.kind() == Kind.COMPUTED) {
                int n = v.shape().intSize();
                primal[v.id()] = alloc(maxRows, n);
                if (requiresGrad[v.id()]) {
                    grad[v.id()] = alloc(maxRows, n);
                }
            }
        }
        long scr = 0;
        for (Node node : nodes) {
            Shape[] in = shapes(node);
            long[] sizes = node.op().stateSizes(in, node.output().shape());
            Tensor[] st = new Tensor[sizes.length];
            for (int j = 0; j < sizes.length; j++) {
                st[j] = alloc(maxRows, Math.toIntExact(sizes[j]));
            }
            state[node.output().id()] = st;
            scr = Math.max(scr, node.op().scratchSize(in, node.output().shape(), maxRows, 1, be.threads()));
        }
        scratchElements = scr;
        scratch = alloc(1, (int) Math.max(1, scr));
        accum = alloc(1, Math.max(1, accumulatorElements(1)));
    }

    private static Shape[] shapes(Node node) {
        Shape[] s = new Shape[node.inputs().size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = node.inputs().get(i).shape();
        }
        return s;
    }

    private Tensor alloc(int r, int c) {
        return be.allocate(arena, dtype, r, c);
    }

    /** Elements of the accumulator: per node, the inputs that other consumers also write (for blocks of k). */
    private int accumulatorElements(int k) {
        int[] uses = new int[slots];
        for (Node n : nodes) {
            for (Value v : n.inputs()) {
                uses[v.id()]++;
            }
        }
        long max = 0;
        for (Node n : nodes) {
            long s = 0;
            for (Value v : n.inputs()) {
                if (uses[v.id()] > 1 && requiresGrad[v.id()]) {
                    s += (long) (v.batched() ? maxRows : 1) * k * v.shape().size();
                }
            }
            max = Math.max(max, s);
        }
        return Math.toIntExact(max);
    }

    private void allocateTangentBuffers() {
        if (tangentBuffers) {
            return;
        }
        for (Value v : graph.values()) {
            if (v.kind() == Kind.COMPUTED && requiresGrad[v.id()]) {
                dot[v.id()] = alloc(maxRows, Math.multiplyExact(maxBlock, v.shape().intSize()));
            }
        }
        planAdjointTangents();
        long scr = scratchElements;
        for (Node node : nodes) {
            scr = Math.max(scr, node.op().scratchSize(shapes(node), node.output().shape(), maxRows, maxBlock,
                    be.threads()));
        }
        scratch = alloc(1, Math.toIntExact(Math.max(1, scr)));
        scratchElements = scr;
        accum = alloc(1, Math.max(1, accumulatorElements(maxBlock)));
        int block = Math.multiplyExact(maxBlock, Math.max(1, graph.parameterCount()));
        blockIn = alloc(1, block);
        blockOut = alloc(1, block);
        userCopy = alloc(1, block);
        tangentBuffers = true;
    }

    private Tensor blockIn, blockOut, userCopy;
    private Tensor gradDotSlab;

    /**
     * Places the adjoint-tangent buffers by liveness in one slab: the reverse sweep writes a value's {@code Ġ} first
     * when its last consumer (in forward order) runs and reads it for the last time when its producer runs, so
     * buffers whose sweeps do not overlap share memory (a chain needs two at a time; a residual block three).
     * Forward tangents stay (the tangent-of-backward rules read them). A product over a parameter group touches a
     * subset of these intervals, so the plan holds for every group.
     */
    private void planAdjointTangents() {
        gradDotSlab = planAdjoints(maxBlock, gradDot);
    }

    /** The liveness plan above for blocks of {@code block} tangents: fills {@code views} by value id, returns the slab. */
    private Tensor planAdjoints(int block, Tensor[] views) {
        int N = nodes.size();
        int[] start = new int[slots], end = new int[slots];
        java.util.Arrays.fill(start, Integer.MAX_VALUE);
        start[graph.output().id()] = -1;
        for (int t = 0; t < N; t++) {
            Node node = nodes.get(N - 1 - t);
            end[node.output().id()] = t;
            for (Value in : node.inputs()) {
                start[in.id()] = Math.min(start[in.id()], t);
            }
        }
        record Placed(long offset, long size, int end) {
        }
        java.util.List<Placed> placed = new java.util.ArrayList<>();
        long[] offset = new long[slots];
        long total = 0;
        java.util.List<Value> order = new java.util.ArrayList<>();
        for (Value v : graph.values()) {
            if (v.kind() == Kind.COMPUTED && requiresGrad[v.id()]) {
                order.add(v);
            }
        }
        order.sort(java.util.Comparator.comparingInt(v -> start[v.id()]));
        for (Value v : order) {
            long size = (long) maxRows * block * v.shape().size();
            int s0 = start[v.id()];
            placed.removeIf(q -> q.end() < s0);
            placed.sort(java.util.Comparator.comparingLong(Placed::offset));
            long at = 0;
            for (Placed q : placed) {
                if (at + size <= q.offset()) {
                    break;
                }
                at = Math.max(at, q.offset() + q.size());
            }
            placed.add(new Placed(at, size, end[v.id()]));
            offset[v.id()] = at;
            total = Math.max(total, at + size);
        }
        Tensor slab = alloc(1, Math.toIntExact(Math.max(1, total)));
        for (Value v : order) {
            views[v.id()] = slab.view(offset[v.id()], maxRows, block * v.shape().intSize());
        }
        return slab;
    }

    public Graph graph() {
        return graph;
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

    /** Bytes of off-heap working memory this engine holds now. */
    public long workingBytes() {
        long n = theta.size() + gradBuf.size() + scratch.size() + accum.size();
        for (Value v : graph.values()) {
            if (v.kind() == Kind.COMPUTED) {
                n += primal[v.id()].size() + (grad[v.id()] == null ? 0 : grad[v.id()].size())
                        + (dot[v.id()] == null ? 0 : dot[v.id()].size());
            }
            for (Tensor t : state[v.id()] == null ? new Tensor[0] : state[v.id()]) {
                n += t.size();
            }
        }
        if (blockIn != null) {
            n += blockIn.size() + blockOut.size() + userCopy.size() + gradDotSlab.size();
        }
        if (third != null) {
            n += third.bytes() / dtype.bytes();
        }
        return n * dtype.bytes();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the graph engine is closed");
        }
    }

    /** Copies {@code values} (P elements, any dtype) into the parameters and forgets the primal pass. */
    public void setParameters(Tensor values) {
        checkOpen();
        if (values.size() != graph.parameterCount()) {
            throw new InvalidInputException("expected " + graph.parameterCount() + " parameters, got " + values.size());
        }
        theta.view(0, 1, graph.parameterCount()).copyFrom(values);
        primalReady = false;
    }

    /** The parameters ({@code P × 1}, this engine's dtype; read only unless followed by {@link #invalidate()}). */
    public Tensor parameters() {
        return theta.view(0, graph.parameterCount(), 1);
    }

    public void invalidate() {
        primalReady = false;
    }

    public double lastLoss() {
        return lastLoss;
    }

    /** The network outputs of the current batch ({@code rows × K}, a view: read only). */
    public Tensor outputs() {
        return primal[graph.output().id()].view(0, rows, graph.outputSize());
    }

    private void checkBatch(Tensor x, Tensor y) {
        if (x.cols() != graph.inputSize() || x.rows() < 1 || x.rows() > maxRows || y.rows() != x.rows()
                || y.cols() != graph.outputSize() || x.dtype() != dtype) {
            throw new InvalidInputException("batch " + x + " / " + y + " does not fit the graph (input "
                    + graph.input().shape() + ", output " + graph.output().shape() + ", at most " + maxRows
                    + " rows of " + dtype + ")");
        }
    }

    private Tensor rowsView(Tensor buf, int cols) {
        return buf.view(0, rows, cols);
    }

    private Tensor value(Value v) {
        if (v.kind() == Kind.INPUT) {
            return x;
        }
        return v.batched() ? rowsView(primal[v.id()], v.shape().intSize()) : primal[v.id()];
    }

    private void bind(Node node, int k) {
        List<Value> in = node.inputs();
        int m = in.size();
        ctx.be = be;
        ctx.dtype = dtype;
        ctx.rows = rows;
        ctx.k = k;
        ctx.inShape = shapes(node);
        ctx.batched = new boolean[m];
        ctx.in = new Tensor[m];
        ctx.inDot = new Tensor[m];
        ctx.inGrad = new Tensor[m];
        ctx.inGradDot = new Tensor[m];
        for (int i = 0; i < m; i++) {
            ctx.batched[i] = in.get(i).batched();
            ctx.in[i] = value(in.get(i));
        }
        Value o = node.output();
        int n = o.shape().intSize();
        ctx.outShape = o.shape();
        ctx.out = rowsView(primal[o.id()], n);
        ctx.outGrad = grad[o.id()] == null ? null : rowsView(grad[o.id()], n);
        ctx.outDot = null;
        ctx.outGradDot = null;
        ctx.inDDot = null;
        ctx.inGradDDot = null;
        ctx.outDDot = null;
        ctx.outGradDDot = null;
        Tensor[] st = state[o.id()];
        ctx.state = new Tensor[st.length];
        for (int j = 0; j < st.length; j++) {
            ctx.state[j] = st[j].view(0, rows, st[j].cols());
        }
        ctx.scratch = scratch;
    }

    /**
     * Primal forward and backward pass on a batch; returns {@code scale · Σ_rows ℓ}. Writes the gradient into
     * {@code gradOut} (P elements) unless it is null, and keeps the pass for {@link #product}.
     *
     * @param x inputs, {@code b × inputSize} ({@code b ≤ maxRows}), this engine's dtype
     * @param y targets, {@code b × K}
     */
    public double forwardBackward(Tensor x, Tensor y, double scale, Tensor gradOut) {
        checkOpen();
        checkBatch(x, y);
        if (gradOut != null && gradOut.size() != graph.parameterCount()) {
            throw new IllegalArgumentException("gradient buffer " + gradOut + " needs " + graph.parameterCount()
                    + " elements");
        }
        forwardPass(x, y, scale);
        Value out = graph.output();
        loss.backward(rowsView(grad[out.id()], graph.outputSize()));
        BitSet written = new BitSet(slots);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node node = nodes.get(i);
            if (!requiresGrad[node.output().id()]) {
                continue;
            }
            bind(node, 1);
            int m = node.inputs().size();
            Tensor[] real = new Tensor[m];
            boolean[] accumulate = new boolean[m];
            for (int s = 0; s < m; s++) {
                Value v = node.inputs().get(s);
                if (requiresGrad[v.id()]) {
                    real[s] = gradView(v, 1);
                    accumulate[s] = written.get(v.id());
                    written.set(v.id());
                }
            }
            routeAdjoints(real, accumulate, ctx.inGrad);
            node.op().backward(ctx);
            addAccumulated(real, accumulate, ctx.inGrad);
        }
        primalReady = true;
        if (gradOut != null) {
            gradOut.copyFrom(gradBuf.view(0, 1, graph.parameterCount()));
        }
        return lastLoss;
    }

    private Tensor gradView(Value v, int k) {
        return v.batched() ? rowsView(grad[v.id()], v.shape().intSize()) : grad[v.id()];
    }

    /** Primal forward pass only; returns {@code scale · Σ_rows ℓ}. Forgets any kept pass. */
    public double forward(Tensor x, Tensor y, double scale) {
        checkOpen();
        checkBatch(x, y);
        forwardPass(x, y, scale);
        primalReady = false;
        return lastLoss;
    }

    private void forwardPass(Tensor x, Tensor y, double scale) {
        this.x = x;
        this.rows = x.rows();
        primalReady = false;
        for (Node node : nodes) {
            bind(node, 1);
            node.op().forward(ctx);
        }
        lastLoss = loss.forward(outputs(), y, scale);
    }

    /**
     * {@code out = C·V} for curvature {@code c} on the current batch, restricted to the parameters {@code group}
     * (indices into {@link Graph#parameters()}, ascending; null for all). {@code V} and {@code out} are
     * {@code n × k} ({@code k ≤ maxBlock}, n the group's parameter count), must not overlap, and may have any
     * dtype. The result is the batch's contribution, scaled as the loss, overwriting {@code out}.
     */
    public void product(Curvature c, int[] group, Tensor v, Tensor out) {
        checkOpen();
        if (!primalReady) {
            throw new IllegalStateException("product() needs forwardBackward() on the current parameters first");
        }
        List<Value> params = graph.parameters();
        int[] g = group == null ? allParameters() : group;
        int[] sizes = groupSizes(g);
        long n = 0;
        for (int size : sizes) {
            n += size;
        }
        int k = v.cols();
        if (v.rows() != n || out.rows() != n || out.cols() != k || k < 1 || k > maxBlock) {
            throw new IllegalArgumentException("product needs V and out of " + n + " x k (k <= " + maxBlock
                    + "), got " + v + " and " + out);
        }
        allocateTangentBuffers();
        boolean direct = k == 1 && v.dtype() == dtype && out.dtype() == dtype;
        Tensor vIn = direct ? v.reshape(1, (int) n) : blockIn.view(0, 1, Math.toIntExact(k * n));
        Tensor res = direct ? out.reshape(1, (int) n) : blockOut.view(0, 1, Math.toIntExact(k * n));
        if (!direct) {
            Tensor u = v;
            if (v.dtype() != dtype) {
                u = userCopy.view(0, 1, Math.toIntExact(k * n));
                u.copyFrom(v);
            }
            swapAll(u, vIn, sizes, k, (int) n, true);
        }
        // Which values carry a tangent: the group's parameters and everything computed from them.
        boolean[] active = new boolean[slots];
        Tensor[] pDot = new Tensor[slots], pGradDot = new Tensor[slots];
        long off = 0;
        for (int i : g) {
            Value p = params.get(i);
            int np = p.shape().intSize();
            active[p.id()] = true;
            pDot[p.id()] = vIn.view(off, 1, k * np);
            pGradDot[p.id()] = res.view(off, 1, k * np);
            off += (long) k * np;
        }
        for (Node node : nodes) {
            for (Value in : node.inputs()) {
                active[node.output().id()] |= active[in.id()];
            }
        }
        // Forward tangents.
        for (Node node : nodes) {
            Value o = node.output();
            if (!active[o.id()]) {
                continue;
            }
            bind(node, k);
            for (int s = 0; s < node.inputs().size(); s++) {
                Value in = node.inputs().get(s);
                ctx.inDot[s] = !active[in.id()] ? null : in.batched() ? dotView(in, k) : pDot[in.id()];
            }
            ctx.outDot = dotView(o, k);
            node.op().tangent(ctx);
        }
        Value outV = graph.output();
        if (!active[outV.id()]) {
            be.zero(res);
        } else {
            Tensor seed = gradDotView(outV, k);
            if (c == Curvature.FUNCTIONAL) {
                be.zero(seed);
            } else {
                loss.tangentOfBackward(dotView(outV, k), seed);
            }
            boolean second = c != Curvature.GAUSS_NEWTON;
            BitSet written = new BitSet(slots);
            for (int i = nodes.size() - 1; i >= 0; i--) {
                Node node = nodes.get(i);
                Value o = node.output();
                if (!active[o.id()]) {
                    continue;
                }
                bind(node, k);
                int m = node.inputs().size();
                Tensor[] real = new Tensor[m];
                boolean[] accumulate = new boolean[m];
                for (int s = 0; s < m; s++) {
                    Value in = node.inputs().get(s);
                    if (!active[in.id()]) {
                        continue;
                    }
                    ctx.inDot[s] = in.batched() ? dotView(in, k) : pDot[in.id()];
                    real[s] = in.batched() ? gradDotView(in, k) : pGradDot[in.id()];
                    accumulate[s] = written.get(in.id());
                    written.set(in.id());
                }
                ctx.outDot = dotView(o, k);
                ctx.outGradDot = gradDotView(o, k);
                routeAdjoints(real, accumulate, ctx.inGradDot);
                node.op().tangentOfBackward(ctx, second);
                addAccumulated(real, accumulate, ctx.inGradDot);
            }
        }
        if (!direct) {
            if (out.dtype() == dtype) {
                swapAll(out, res, sizes, k, (int) n, false);
            } else {
                Tensor u = userCopy.view(0, 1, Math.toIntExact(k * n));
                swapAll(u, res, sizes, k, (int) n, false);
                out.copyFrom(u);
            }
        }
    }

    /** The sizes of the group's parameter tensors, after checking that {@code g} is ascending and in range. */
    private int[] groupSizes(int[] g) {
        List<Value> params = graph.parameters();
        int[] sizes = new int[g.length];
        for (int i = 0; i < g.length; i++) {
            if (g[i] < 0 || g[i] >= params.size() || (i > 0 && g[i] <= g[i - 1])) {
                throw new IllegalArgumentException("parameter group must be ascending indices below " + params.size());
            }
            sizes[i] = params.get(g[i]).shape().intSize();
        }
        return sizes;
    }

    private int[] allParameters() {
        int[] all = new int[graph.parameters().size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return all;
    }

    private Tensor dotView(Value v, int k) {
        return dot[v.id()].view(0, rows, k * v.shape().intSize());
    }

    private Tensor gradDotView(Value v, int k) {
        return gradDot[v.id()].view(0, rows, k * v.shape().intSize());
    }

    /**
     * Between the user layout ({@code n × k} row-major) and the internal one (per parameter of the group, its k
     * tangents one after another): the group's parameters are consecutive in both, so one swap per parameter.
     */
    private void swapAll(Tensor user, Tensor internal, int[] sizes, int k, int n, boolean toInternal) {
        Tensor uf = user.reshape(1, n * k);
        long off = 0;
        for (int np : sizes) {
            Tensor u = uf.view(off, 1, np * k), in = internal.view(off, 1, np * k);
            if (toInternal) {
                be.swapLeadingAxes(u, np, k, 1, 0, in);
            } else {
                be.swapLeadingAxes(in, k, np, 1, 0, u);
            }
            off += (long) np * k;
        }
    }

    // ---- third-order pass

    /** Buffers of the third-order pass (one direction), allocated at its first call. */
    private final class ThirdOrder {
        final Tensor[] ddot = new Tensor[slots];      // second tangents ẍ of the computed values
        final Tensor[] gradDDot = new Tensor[slots];  // second tangents g̈ of their adjoints (liveness slab)
        final Tensor gradDDotSlab, v, hv, d3;

        ThirdOrder() {
            for (Value val : graph.values()) {
                if (val.kind() == Kind.COMPUTED && requiresGrad[val.id()]) {
                    ddot[val.id()] = alloc(maxRows, val.shape().intSize());
                }
            }
            gradDDotSlab = planAdjoints(1, gradDDot);
            int p = Math.max(1, graph.parameterCount());
            v = alloc(1, p);
            hv = alloc(1, p);
            d3 = alloc(1, p);
        }

        long bytes() {
            long n = gradDDotSlab.size() + v.size() + hv.size() + d3.size();
            for (Tensor t : ddot) {
                n += t == null ? 0 : t.size();
            }
            return n * dtype.bytes();
        }

        Tensor ddot(Value val) {
            return ddot[val.id()].view(0, rows, val.shape().intSize());
        }

        Tensor gradDDot(Value val) {
            return gradDDot[val.id()].view(0, rows, val.shape().intSize());
        }
    }

    private ThirdOrder third;

    /**
     * Third-order product on the current batch for one direction {@code v} supported on the parameters {@code group}
     * (indices into {@link Graph#parameters()}, ascending; null for all): {@code hv = H·v} and
     * {@code d3 = D³L[v, v, ·] = ∇_θ(vᵀH(θ)v)}, the gradient of the Hessian-trace penalty of HTR training, both over
     * <em>all</em> P parameters and scaled as the loss; returns {@code vᵀHv}. Exact: the HVP computation is pushed
     * along {@code v} once more (Taylor mode, {@link Op#secondTangent}, {@link Op#secondTangentOfBackward}); costs
     * about two HVPs. {@code v}: the group's parameter count of elements (its parameters in flat order);
     * {@code hv}, {@code d3}: P elements; any dtype, not overlapping. Needs {@link #forwardBackward} first.
     */
    public double thirdOrder(int[] group, Tensor v, Tensor hv, Tensor d3) {
        checkOpen();
        int[] g = group == null ? allParameters() : group;
        int[] sizes = groupSizes(g);
        long n = 0;
        for (int size : sizes) {
            n += size;
        }
        int P = graph.parameterCount();
        if (v.size() != n || hv.size() != P || d3.size() != P) {
            throw new IllegalArgumentException("thirdOrder needs v of " + n + " elements and hv, d3 of " + P
                    + ", got " + v + ", " + hv + ", " + d3);
        }
        requirePrimalPass();
        allocateTangentBuffers();
        if (third == null) {
            third = new ThirdOrder();
        }
        Tensor vIn = third.v.view(0, 1, (int) n);
        vIn.copyFrom(v);
        return thirdOrderPass(g, vIn, hv, d3);
    }

    /**
     * {@link #thirdOrder(int[], Tensor, Tensor, Tensor)} for a direction given over all P parameters: the
     * parameter tensors whose entries of {@code v} are all zero carry no tangent (an exact symbolic zero), so a
     * direction supported on a few modules costs the pass from those modules on.
     */
    @Override
    public double thirdOrder(Tensor v, Tensor hv, Tensor d3) {
        checkOpen();
        int P = graph.parameterCount();
        if (v.size() != P) {
            throw new IllegalArgumentException("thirdOrder needs v of " + P + " elements, got " + v);
        }
        List<Value> params = graph.parameters();
        java.util.List<Integer> members = new java.util.ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            long off = graph.offset(i);
            for (long e = 0, np = params.get(i).shape().size(); e < np; e++) {
                if (v.get(off + e) != 0) {
                    members.add(i);
                    break;
                }
            }
        }
        int[] g = members.stream().mapToInt(Integer::intValue).toArray();
        if (hv.size() != P || d3.size() != P) {
            throw new IllegalArgumentException("thirdOrder needs hv and d3 of " + P + " elements, got " + hv + ", " + d3);
        }
        requirePrimalPass();
        allocateTangentBuffers();
        if (third == null) {
            third = new ThirdOrder();
        }
        long at = 0;
        Tensor flat = v.reshape(1, P);
        for (int i : g) {
            int np = params.get(i).shape().intSize();
            third.v.view(at, 1, np).copyFrom(flat.view(graph.offset(i), 1, np));
            at += np;
        }
        return thirdOrderPass(g, third.v.view(0, 1, (int) Math.max(1, at)), hv, d3);
    }

    private void requirePrimalPass() {
        if (!primalReady) {
            throw new IllegalStateException("thirdOrder() needs forwardBackward() on the current parameters first");
        }
    }

    private double thirdOrderPass(int[] g, Tensor vIn, Tensor hvOut, Tensor d3Out) {
        List<Value> params = graph.parameters();
        int P = graph.parameterCount();
        ThirdOrder t = third;
        Tensor hvB = t.hv.view(0, 1, Math.max(1, P)), d3B = t.d3.view(0, 1, Math.max(1, P));
        be.zero(hvB);
        be.zero(d3B);
        boolean[] active = new boolean[slots];
        Tensor[] pDot = new Tensor[slots], pGradDot = new Tensor[slots], pGradDDot = new Tensor[slots];
        long off = 0;
        for (int i : g) {
            Value p = params.get(i);
            int np = p.shape().intSize();
            active[p.id()] = true;
            pDot[p.id()] = vIn.view(off, 1, np);
            off += np;
        }
        for (int i = 0; i < params.size(); i++) {
            Value p = params.get(i);
            int np = p.shape().intSize();
            pGradDot[p.id()] = hvB.view(graph.offset(i), 1, np);
            pGradDDot[p.id()] = d3B.view(graph.offset(i), 1, np);
        }
        for (Node node : nodes) {
            for (Value in : node.inputs()) {
                active[node.output().id()] |= active[in.id()];
            }
        }
        // Forward: tangents ẋ and second tangents ẍ of the values that depend on the direction.
        for (Node node : nodes) {
            Value o = node.output();
            if (!active[o.id()]) {
                continue;
            }
            bindThird(node, active, pDot);
            node.op().tangent(ctx);
            node.op().secondTangent(ctx);
        }
        Value outV = graph.output();
        if (g.length > 0 && active[outV.id()]) {
            loss.tangentOfBackward(dotView(outV, 1), gradDotView(outV, 1));
            loss.secondTangentOfBackward(dotView(outV, 1), t.ddot(outV), t.gradDDot(outV));
            // Reverse: ġ and g̈ of every value that depends on a parameter (d3 is over all parameters).
            BitSet written = new BitSet(slots);
            for (int i = nodes.size() - 1; i >= 0; i--) {
                Node node = nodes.get(i);
                Value o = node.output();
                if (!requiresGrad[o.id()]) {
                    continue;
                }
                bindThird(node, active, pDot);
                ctx.outGradDot = gradDotView(o, 1);
                ctx.outGradDDot = t.gradDDot(o);
                int m = node.inputs().size();
                Tensor[] realDot = new Tensor[m], realDDot = new Tensor[m];
                boolean[] accumulate = new boolean[m];
                for (int s = 0; s < m; s++) {
                    Value in = node.inputs().get(s);
                    if (!requiresGrad[in.id()]) {
                        continue;
                    }
                    realDot[s] = in.batched() ? gradDotView(in, 1) : pGradDot[in.id()];
                    realDDot[s] = in.batched() ? t.gradDDot(in) : pGradDDot[in.id()];
                    accumulate[s] = written.get(in.id());
                    written.set(in.id());
                }
                routeAdjoints(realDot, accumulate, ctx.inGradDot);
                node.op().tangentOfBackward(ctx, true);
                addAccumulated(realDot, accumulate, ctx.inGradDot);
                routeAdjoints(realDDot, accumulate, ctx.inGradDDot);
                node.op().secondTangentOfBackward(ctx);
                addAccumulated(realDDot, accumulate, ctx.inGradDDot);
            }
        }
        hvOut.copyFrom(hvB.view(0, 1, P));
        d3Out.copyFrom(d3B.view(0, 1, P));
        double quad = 0;
        off = 0;
        for (int i : g) {
            long po = graph.offset(i);
            for (long e = 0, np = params.get(i).shape().size(); e < np; e++) {
                quad += vIn.get(off + e) * hvB.get(po + e);
            }
            off += params.get(i).shape().size();
        }
        return quad;
    }

    /** Binds a node for the third-order pass (k = 1): primal, tangents and second tangents of the active inputs. */
    private void bindThird(Node node, boolean[] active, Tensor[] pDot) {
        bind(node, 1);
        int m = node.inputs().size();
        ctx.inDDot = new Tensor[m];
        ctx.inGradDDot = new Tensor[m];
        for (int s = 0; s < m; s++) {
            Value in = node.inputs().get(s);
            if (active[in.id()]) {
                ctx.inDot[s] = in.batched() ? dotView(in, 1) : pDot[in.id()];
                ctx.inDDot[s] = in.batched() ? third.ddot(in) : null;
            }
        }
        Value o = node.output();
        ctx.outDot = active[o.id()] ? dotView(o, 1) : null;
        ctx.outDDot = active[o.id()] ? third.ddot(o) : null;
        ctx.outGradDDot = null;
    }

    /** Points each wanted input adjoint slot at its buffer, or at the accumulator when another consumer wrote it. */
    private void routeAdjoints(Tensor[] real, boolean[] accumulate, Tensor[] into) {
        long accOff = 0;
        for (int s = 0; s < real.length; s++) {
            if (real[s] == null) {
                into[s] = null;
            } else if (accumulate[s]) {
                into[s] = accum.view(accOff, real[s].rows(), real[s].cols());
                accOff += real[s].size();
            } else {
                into[s] = real[s];
            }
        }
    }

    /** After a rule: adds what it wrote into the accumulator to the real buffers. */
    private void addAccumulated(Tensor[] real, boolean[] accumulate, Tensor[] from) {
        for (int s = 0; s < real.length; s++) {
            if (real[s] != null && accumulate[s]) {
                be.axpy(1, from[s], real[s]);
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
