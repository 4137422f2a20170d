package io.hvp4j.spark;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;

import java.io.Serializable;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * An {@link Objective} whose loss, gradient and curvature products are sums over data partitions computed on Spark
 * executors, so that the spectral tools (Lanczos, power iteration, SLQ, trace estimators, randomized rank) run
 * unchanged on the driver.
 *
 * <p>The rows are cut into batches of {@code batchRows} as the single-machine objective cuts them, and each
 * partition takes a contiguous run of whole batches. The parameters are broadcast once per {@link #setParameters}
 * and each block of vectors once per {@link #apply}. Each executor JVM keeps one engine per model (and batch size)
 * and reuses it across tasks: it reads a partition's rows once, and when it holds a single batch, keeps its primal
 * pass between products as the single-machine objective does. A partition adds its batches in float64 in order;
 * the partitions' sums are combined by {@code treeAggregate} in a fixed binary tree ({@link TreeSum}), so the same
 * partitioning (and executor thread count) gives the same bits, also when Spark retries a failed task. The mean
 * reduction divides the sum by N on the driver, so results differ from the single-machine objective by rounding
 * only.
 *
 * <p>Not thread-safe (as every {@link Objective}). The caller owns the Spark context; {@link #close} releases the
 * broadcasts and the rows the executors cached.
 */
public final class SparkObjective implements Objective {
    private final JavaSparkContext sc;
    private final Job base;
    private final List<ParameterGroup> groups;
    private final int parameterCount;
    private final double scale;
    private final int batches;
    private final JavaRDD<Integer> partitionIndices;
    private final int depth;
    private final Loss.Reduction reduction;
    private final Arena arena = Arena.ofShared();
    private Tensor theta;
    private Broadcast<double[]> thetaBroadcast;
    private int invalidations;
    /** Parameter settings so far: with the objective's id, names the parameters on executors. */
    private int settings;

    /**
     * @param batchRows rows per batch (bounds each engine's working memory); at most N
     * @param maxBlock  the most vectors one {@link #apply} takes
     * @param partitions partitions (tasks per product); at most the number of batches
     */
    public SparkObjective(JavaSparkContext sc, Model model, DataSource data, Loss.Reduction reduction, int batchRows,
                          int maxBlock, int partitions) {
        int n = data.size();
        int[] dims = model.dimensions();
        if (data.inputDimension() != dims[0] || data.outputDimension() != dims[1]) {
            throw new InvalidInputException("data has " + data.inputDimension() + " inputs and "
                    + data.outputDimension() + " outputs but " + model + " takes " + dims[0] + " and gives "
                    + dims[1]);
        }
        if (batchRows < 1 || maxBlock < 1 || partitions < 1) {
            throw new InvalidInputException("batch rows, block size and partitions must be positive, got "
                    + batchRows + ", " + maxBlock + ", " + partitions);
        }
        int b = Math.min(batchRows, n);
        this.batches = (n + b - 1) / b;
        if (partitions > batches) {
            throw new InvalidInputException(partitions + " partitions need at least as many batches, but " + n
                    + " rows in batches of " + b + " make " + batches + " (use a smaller batch size)");
        }
        this.sc = sc;
        this.groups = model.groups();
        this.parameterCount = model.parameterCount();
        this.reduction = reduction;
        this.scale = reduction == Loss.Reduction.MEAN ? 1.0 / n : 1.0;
        List<Integer> indices = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            indices.add(p);
        }
        this.partitionIndices = sc.parallelize(indices, partitions);
        this.depth = Math.max(2, (int) Math.ceil(Math.log(partitions) / Math.log(2) / 2)); // fan-in ~ √partitions
        this.base = new Job(UUID.randomUUID().toString(), model, data, n, b, batches, partitions, maxBlock, null,
                null, null, null, null, null, "");
    }

    /** What a task computes. */
    enum Op { PRODUCT, THIRD_ORDER, GRADIENT, VALUE, FORWARD_LOSS }

    /** The group's identity, shipped to executors (records of the engine are not serializable). */
    record Group(String name, int[] members, long offset, int size) implements Serializable {
        static Group of(ParameterGroup g) {
            return g == null ? null : new Group(g.name(), g.members(), g.offset(), g.size());
        }

        ParameterGroup group() {
            return new ParameterGroup(name, members, offset, size);
        }
    }

    /** Everything a task needs; the arrays travel as broadcasts. */
    record Job(String id, Model model, DataSource data, int rows, int batchRows, int batches, int partitions,
               int maxBlock, Op op, Curvature curvature, Group group, Broadcast<double[]> theta, String thetaId,
               Broadcast<Object> block, String epoch) implements Serializable {
        Job with(Op o, Curvature c, Group g, Broadcast<double[]> t, String tid, Broadcast<Object> v, String e) {
            return new Job(id, model, data, rows, batchRows, batches, partitions, maxBlock, o, c, g, t, tid, v, e);
        }

        /** Batches {@code [first, end)} of partition {@code p}. */
        int firstBatch(int p) {
            return (int) ((long) p * batches / partitions);
        }
    }

    @Override
    public DType dtype() {
        return base.model().dtype();
    }

    /**
     * The model's key, the data source's key (generated rows by their size, shape, loss and seed; file rows by what
     * the caller's key says, which the CLI makes the paths and the SHA-256 of the contents), the reduction, batch
     * rows, partitions and the SHA-256 of the parameters: equal fingerprints give the same products bit for bit,
     * since each partition adds its batches in order and {@link TreeSum} fixes the tree. The executors' thread
     * count is in the model's key.
     */
    @Override
    public String fingerprint() {
        requireParameters();
        return "spark; model=" + base.model().key() + "; data=" + base.data().key() + "; reduction=" + reduction
                + "; batch=" + base.batchRows() + "; partitions=" + base.partitions() + "; theta=" + theta.sha256();
    }

    @Override
    public int parameterCount() {
        return parameterCount;
    }

    @Override
    public int maxBlock() {
        return base.maxBlock();
    }

    @Override
    public int batches() {
        return batches;
    }

    /** The job without an operation: the layout of partitions and batches (for tests). */
    Job job() {
        return base;
    }

    /** Partitions (tasks per product). */
    public int partitions() {
        return base.partitions();
    }

    @Override
    public List<ParameterGroup> groups() {
        return groups;
    }

    @Override
    public void setParameters(Tensor values) {
        if (values.size() != parameterCount) {
            throw new InvalidInputException("expected " + parameterCount + " parameters for " + base.model()
                    + ", got " + values.size());
        }
        long bad = values.firstNonFinite();
        if (bad >= 0) {
            throw new InvalidInputException("parameters contain a non-finite value at index " + bad);
        }
        Tensor t = Tensor.allocate(arena, dtype(), parameterCount, 1);
        t.copyFrom(values);
        double[] a = t.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            if (Double.isInfinite(a[i])) {
                throw new InvalidInputException("parameter " + i + " (" + values.get(i) + ") overflows " + dtype());
            }
        }
        if (thetaBroadcast != null) {
            thetaBroadcast.destroy();
        }
        theta = t;
        thetaBroadcast = sc.broadcast(a);
        settings++;
    }

    @Override
    public Tensor parameters() {
        requireParameters();
        return theta;
    }

    @Override
    public void invalidate() {
        invalidations++;
    }

    private void requireParameters() {
        if (theta == null) {
            throw new IllegalStateException("setParameters() first");
        }
    }

    @Override
    public double gradient(Tensor grad) {
        requireParameters();
        if (grad != null && grad.size() != parameterCount) {
            throw new IllegalArgumentException("gradient needs " + parameterCount + " elements, got " + grad);
        }
        double[] sum = run(grad == null ? Op.VALUE : Op.GRADIENT, null, null, null);
        if (grad != null) {
            for (int i = 0; i < parameterCount; i++) {
                grad.set(i, sum[i] * scale);
            }
        }
        return sum[sum.length - 1] * scale;
    }

    @Override
    public double forwardLoss() {
        requireParameters();
        return run(Op.FORWARD_LOSS, null, null, null)[0] * scale;
    }

    @Override
    public void apply(Curvature curvature, ParameterGroup group, Tensor v, Tensor out) {
        requireParameters();
        int n = group == null ? parameterCount : group.size();
        if (v.rows() != n || out.rows() != n || v.cols() != out.cols() || v.cols() < 1 || v.cols() > maxBlock()) {
            throw new IllegalArgumentException("apply needs V and out of " + n + " rows and the same 1.."
                    + maxBlock() + " columns, got " + v + " and " + out);
        }
        Broadcast<Object> bv = broadcastBlock(v);
        try {
            double[] sum = run(Op.PRODUCT, curvature, Group.of(group), bv);
            for (int i = 0; i < sum.length; i++) {
                out.set(i, sum[i] * scale);
            }
        } finally {
            bv.destroy();
        }
    }

    @Override
    public double thirdOrder(Tensor v, Tensor hv, Tensor d3) {
        requireParameters();
        int p = parameterCount;
        if (v.size() != p || hv.size() != p || d3.size() != p) {
            throw new IllegalArgumentException("thirdOrder needs three vectors of " + p + " elements, got " + v + ", "
                    + hv + ", " + d3);
        }
        Broadcast<Object> bv = broadcastBlock(v);
        try {
            double[] sum = run(Op.THIRD_ORDER, null, null, bv);
            for (int i = 0; i < p; i++) {
                hv.set(i, sum[i] * scale);
                d3.set(i, sum[p + i] * scale);
            }
            return sum[2 * p] * scale;
        } finally {
            bv.destroy();
        }
    }

    /** {@code v} in the engine's dtype (what the single-machine objective converts it to), broadcast. */
    private Broadcast<Object> broadcastBlock(Tensor v) {
        if (dtype() == DType.F32) {
            float[] f = new float[Math.toIntExact(v.size())];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) v.get(i);
            }
            return sc.broadcast(f);
        }
        return sc.broadcast(v.toDoubleArray());
    }

    private double[] run(Op op, Curvature c, Group g, Broadcast<Object> block) {
        Job job = base.with(op, c, g, thetaBroadcast, base.id() + "/" + settings, block,
                base.id() + "#" + invalidations);
        TreeSum total = partitionIndices.treeAggregate(new TreeSum(job.partitions()),
                (acc, p) -> acc.add(p, compute(job, p)), TreeSum::merge, depth);
        return total.total();
    }

    /** Partition {@code p}'s sum, on an executor: its batches in order, added in float64. */
    static double[] compute(Job job, int p) {
        Model model = job.model();
        DType dtype = model.dtype();
        int from = job.firstBatch(p) * job.batchRows();
        int end = Math.min(job.rows(), job.firstBatch(p + 1) * job.batchRows());
        Dataset part = ExecutorState.partition(job.data(), p, from, end - from, dtype, model.loss());
        int length = switch (job.op()) {
            case PRODUCT -> {
                Object b = job.block().value();
                yield b instanceof float[] f ? f.length : ((double[]) b).length;
            }
            case THIRD_ORDER -> 2 * job.theta().value().length + 1;
            case GRADIENT -> job.theta().value().length + 1;
            case VALUE, FORWARD_LOSS -> 1;
        };
        double[] acc = new double[length];
        ExecutorState.Worker worker = ExecutorState.worker(model);
        try (Arena tmp = Arena.ofShared()) { // shared: the backend's workers read these
            Tensor v = null, out = null, d3 = null;
            if (job.op() == Op.PRODUCT || job.op() == Op.THIRD_ORDER) {
                int n = job.group() == null ? job.theta().value().length : job.group().size();
                int k = job.op() == Op.PRODUCT ? length / n : 1;
                v = Tensor.allocate(tmp, dtype, n, k);
                out = Tensor.allocate(tmp, dtype, n, k);
                d3 = job.op() == Op.THIRD_ORDER ? Tensor.allocate(tmp, dtype, n, 1) : null;
                Object b = job.block().value();
                if (b instanceof float[] f) {
                    java.lang.foreign.MemorySegment.copy(f, 0, v.segment(), ValueLayout.JAVA_FLOAT, 0, f.length);
                } else {
                    double[] d = (double[]) b;
                    java.lang.foreign.MemorySegment.copy(d, 0, v.segment(), ValueLayout.JAVA_DOUBLE, 0, d.length);
                }
            } else if (job.op() == Op.GRADIENT) {
                out = Tensor.allocate(tmp, dtype, length - 1, 1);
            }
            ParameterGroup group = job.group() == null ? null : job.group().group();
            synchronized (worker) {
                for (int row = 0; row < end - from; row += job.batchRows()) {
                    int rows = Math.min(job.batchRows(), end - from - row);
                    String stageKey = job.data().key() + " p" + p + " [" + from + "," + end + ") @" + row;
                    ExecutorState.Engine e = worker.engine(rows, job.maxBlock(), part, row, stageKey);
                    try {
                        e.stage(part, row, stageKey);
                        if (!job.thetaId().equals(e.parameters)) {
                            e.objective.setParameters(Tensor.of(tmp, dtype, job.theta().value().length, 1,
                                    job.theta().value()));
                            e.parameters = job.thetaId();
                        }
                        if (!e.epoch.equals(job.epoch())) {
                            e.objective.invalidate();
                            e.epoch = job.epoch();
                        }
                        switch (job.op()) {
                            case PRODUCT -> {
                                e.objective.apply(job.curvature(), group, v, out);
                                addTo(acc, out, 0);
                            }
                            case THIRD_ORDER -> {
                                acc[length - 1] += e.objective.thirdOrder(v, out, d3);
                                addTo(acc, out, 0);
                                addTo(acc, d3, (length - 1) / 2);
                            }
                            case GRADIENT -> {
                                acc[length - 1] += e.objective.gradient(out);
                                addTo(acc, out, 0);
                            }
                            case VALUE -> acc[0] += e.objective.gradient(null);
                            case FORWARD_LOSS -> acc[0] += e.objective.forwardLoss();
                        }
                    } catch (RuntimeException | Error t) {
                        e.staged = null; // the next task restages and recomputes everything
                        e.parameters = null;
                        throw t;
                    }
                }
            }
        }
        return acc;
    }

    private static void addTo(double[] acc, Tensor t, int offset) {
        for (int i = 0, n = Math.toIntExact(t.size()); i < n; i++) {
            acc[offset + i] += t.get(i);
        }
    }

    @Override
    public long workingBytes() {
        return theta == null ? 0 : theta.size() * dtype().bytes();
    }

    /** Releases the broadcasts and asks the executors to drop the rows they cached (best effort). */
    @Override
    public void close() {
        if (thetaBroadcast != null) {
            thetaBroadcast.destroy();
            thetaBroadcast = null;
        }
        if (!sc.sc().isStopped()) {
            String key = base.data().key();
            partitionIndices.foreach(p -> ExecutorState.forget(key));
        }
        arena.close();
    }
}
