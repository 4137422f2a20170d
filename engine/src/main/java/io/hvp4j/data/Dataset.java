package io.hvp4j.data;

import io.hvp4j.random.Rng;
import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * A data set: inputs {@code N × d} and targets {@code N × K}, row-major, one sample per row. Classification
 * targets are stored as probability rows (one-hot for integer labels). Immutable after construction; its tensors
 * live as long as the arena they were built in.
 *
 * <p>The inputs are either a tensor (in memory, or a read-only mapping of a large file in the run's dtype) or
 * {@linkplain #streamed() streamed}: {@link Rows} converted on demand, e.g. from the mapped bytes of a large IDX
 * image file, so that a data set larger than memory is never held whole. Batch loops read inputs through
 * {@link #inputRows} or {@link #copyInputs}, which work for both.
 */
public final class Dataset {
    private final Tensor stored;
    private final Rows rows;
    private final Tensor targets;
    private Tensor materialized;

    /**
     * Input rows produced on demand in the data set's dtype (e.g. converted from mapped bytes). Implementations
     * validate their source (shape, finiteness) before they are handed to a {@link Dataset}, and must allow
     * concurrent reads.
     */
    public interface Rows {
        /** Number of rows, N. */
        int rows();

        /** Values per row, d. */
        int cols();

        /** The dtype of the rows written by {@link #copy}. */
        DType dtype();

        /** Writes rows {@code [from, from + dst.rows())} into {@code dst} ({@code dst.cols() == cols()}). */
        void copy(int from, Tensor dst);

        /** The stored tensor when the rows are one (then nothing is converted), else null. */
        default Tensor tensor() {
            return null;
        }

        /** The rows of a tensor. */
        static Rows of(Tensor t) {
            return new Rows() {
                public int rows() {
                    return t.rows();
                }

                public int cols() {
                    return t.cols();
                }

                public DType dtype() {
                    return t.dtype();
                }

                public void copy(int from, Tensor dst) {
                    dst.copyFrom(t.rowSlice(from, dst.rows()));
                }

                @Override
                public Tensor tensor() {
                    return t;
                }
            };
        }
    }

    /** Validates shapes and finiteness; {@code what} names the source in error messages. */
    public Dataset(Tensor inputs, Tensor targets, String what) {
        this(Rows.of(inputs), targets, what);
    }

    /**
     * A data set of input rows (streamed when {@code inputs} is not a {@linkplain Rows#tensor() tensor}: their
     * finiteness is then the source's to check) and target rows; {@code what} names the source in messages.
     */
    public Dataset(Rows inputs, Tensor targets, String what) {
        if (inputs.rows() != targets.rows()) {
            throw new InvalidInputException(what + ": " + inputs.rows() + " input rows but " + targets.rows()
                    + " target rows");
        }
        if (inputs.rows() == 0) {
            throw new InvalidInputException(what + ": the data set is empty");
        }
        if (inputs.dtype() != targets.dtype()) {
            throw new IllegalArgumentException("inputs and targets differ in dtype");
        }
        this.stored = inputs.tensor();
        if (stored != null) {
            requireFinite(stored, what + " inputs");
        }
        requireFinite(targets, what + " targets");
        this.rows = inputs;
        this.targets = targets;
    }

    static void requireFinite(Tensor t, String what) {
        long bad = t.firstNonFinite();
        if (bad >= 0) {
            throw new InvalidInputException(what + " contain a non-finite value (" + t.get(bad) + ") at row "
                    + bad / Math.max(1, t.cols()) + ", column " + bad % Math.max(1, t.cols()));
        }
    }

    /** Whether the inputs are converted on demand (not held as one tensor). */
    public boolean streamed() {
        return stored == null;
    }

    /**
     * The inputs as one {@code N × d} tensor. For {@linkplain #streamed() streamed} inputs the first call converts
     * every row into memory (kept while the data set is reachable), which a data set larger than memory cannot
     * afford: batch loops use {@link #inputRows} instead.
     */
    public synchronized Tensor inputs() {
        if (stored != null) {
            return stored;
        }
        if (materialized == null) {
            Tensor t = Tensor.allocate(Arena.ofAuto(), rows.dtype(), rows.rows(), rows.cols());
            rows.copy(0, t);
            materialized = t;
        }
        return materialized;
    }

    /**
     * Input rows {@code [from, from + count)}: a view of the stored tensor, or for streamed inputs those rows
     * converted into the first {@code count} rows of {@code scratch} (a tensor of at least {@code count} rows
     * of {@code d} columns in the data set's dtype; unused, and may be null, when the inputs are stored).
     */
    public Tensor inputRows(int from, int count, Tensor scratch) {
        if (stored != null) {
            return stored.rowSlice(from, count);
        }
        Tensor dst = scratch.rowSlice(0, count);
        copyInputs(from, dst);
        return dst;
    }

    /** Copies input rows {@code [from, from + dst.rows())} into {@code dst}. */
    public void copyInputs(int from, Tensor dst) {
        java.util.Objects.checkFromIndexSize(from, dst.rows(), size());
        if (dst.cols() != inputDimension()) {
            throw new IllegalArgumentException("input rows have " + inputDimension() + " columns, not "
                    + dst.cols());
        }
        rows.copy(from, dst);
    }

    /**
     * The first {@code n} samples: views when the inputs are stored, a converted copy in {@code arena} when they
     * are streamed.
     */
    public Dataset head(int n, Arena arena, String what) {
        Tensor x = stored != null ? stored.rowSlice(0, n) : inputRows(0, n,
                Tensor.allocate(arena, dtype(), n, inputDimension()));
        return new Dataset(x, targets.rowSlice(0, n), what);
    }

    public Tensor targets() {
        return targets;
    }

    public int size() {
        return rows.rows();
    }

    public int inputDimension() {
        return rows.cols();
    }

    public int outputDimension() {
        return targets.cols();
    }

    public DType dtype() {
        return rows.dtype();
    }

    /** One-hot rows for integer labels in {@code [0, classes)}. */
    public static Tensor oneHot(Arena arena, DType dtype, int[] labels, int classes) {
        Tensor t = Tensor.allocate(arena, dtype, labels.length, classes);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new InvalidInputException("label " + labels[i] + " at row " + i + " is outside [0, " + classes + ")");
            }
            t.set(i, labels[i], 1);
        }
        return t;
    }

    /** Checks that ce targets are probability rows (non-negative, summing to 1 within 1e-6·K). */
    public static void requireProbabilities(Tensor y, String what) {
        for (int r = 0; r < y.rows(); r++) {
            double s = 0;
            for (int c = 0; c < y.cols(); c++) {
                double v = y.get(r, c);
                if (v < 0) {
                    throw new InvalidInputException(what + ": ce targets must be non-negative; row " + r + " has " + v);
                }
                s += v;
            }
            if (Math.abs(s - 1) > 1e-6 * Math.max(1, y.cols())) {
                throw new InvalidInputException(what + ": ce target row " + r + " sums to " + s + ", not 1");
            }
        }
    }

    /**
     * The built-in synthetic set {@code gaussian:N}: standard-normal inputs; standard-normal targets for mse and
     * cosh, uniform labels (one-hot) for ce. Inputs and targets use separate seeded streams.
     */
    public static Dataset gaussian(Arena arena, DType dtype, int n, int d, int outputs, Loss loss, long seed) {
        if (n < 1) {
            throw new InvalidInputException("gaussian data needs at least one sample, got " + n);
        }
        SplittableRandom root = new SplittableRandom(seed ^ 0x5DEECE66DL);
        SplittableRandom rx = root.split(), ry = root.split();
        Tensor x = Tensor.allocate(arena, dtype, n, d);
        for (long i = 0; i < x.size(); i++) {
            x.set(i, Rng.gaussian(rx));
        }
        Tensor y;
        if (loss == Loss.CE) {
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = ry.nextInt(outputs);
            y = oneHot(arena, dtype, labels, outputs);
        } else {
            y = Tensor.allocate(arena, dtype, n, outputs);
            for (long i = 0; i < y.size(); i++) {
                y.set(i, Rng.gaussian(ry));
            }
        }
        return new Dataset(x, y, "gaussian:" + n);
    }
}
