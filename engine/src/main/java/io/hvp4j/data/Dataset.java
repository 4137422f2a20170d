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
        /**
         * The number of rows.
         *
         * @return N
         */
        int rows();

        /**
         * Values per row.
         *
         * @return d
         */
        int cols();

        /**
         * The rows' precision.
         *
         * @return the dtype of the rows written by {@link #copy}
         */
        DType dtype();

        /**
         * Writes consecutive rows.
         *
         * @param from the first row
         * @param dst  receives rows {@code [from, from + dst.rows())}; {@code dst.cols() == cols()}
         */
        void copy(int from, Tensor dst);

        /**
         * The rows as stored.
         *
         * @return the stored tensor when the rows are one (then nothing is converted), else null
         */
        default Tensor tensor() {
            return null;
        }

        /**
         * The rows of a tensor.
         *
         * @param t an {@code N × d} tensor
         * @return its rows (no copy)
         */
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

    /**
     * A data set of stored inputs; validates shapes and finiteness.
     *
     * @param inputs  {@code N × d}
     * @param targets {@code N × K}, the same dtype
     * @param what    names the source in error messages
     * @throws InvalidInputException for mismatched rows, an empty set or a non-finite value
     */
    public Dataset(Tensor inputs, Tensor targets, String what) {
        this(Rows.of(inputs), targets, what);
    }

    /**
     * A data set of input rows (streamed when {@code inputs} is not a {@linkplain Rows#tensor() tensor}: their
     * finiteness is then the source's to check) and target rows.
     *
     * @param inputs  N rows of d values
     * @param targets {@code N × K}, the same dtype
     * @param what    names the source in error messages
     * @throws InvalidInputException for mismatched rows, an empty set or a non-finite value
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

    /**
     * How the inputs are held.
     *
     * @return whether the inputs are converted on demand (not held as one tensor)
     */
    public boolean streamed() {
        return stored == null;
    }

    /**
     * The inputs as one {@code N × d} tensor. For {@linkplain #streamed() streamed} inputs the first call converts
     * every row into memory (kept while the data set is reachable), which a data set larger than memory cannot
     * afford: batch loops use {@link #inputRows} instead.
     *
     * @return the {@code N × d} inputs
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
     *
     * @param from    the first row
     * @param count   the number of rows
     * @param scratch room for converted rows, or null when the inputs are stored
     * @return the {@code count × d} rows
     */
    public Tensor inputRows(int from, int count, Tensor scratch) {
        if (stored != null) {
            return stored.rowSlice(from, count);
        }
        Tensor dst = scratch.rowSlice(0, count);
        copyInputs(from, dst);
        return dst;
    }

    /**
     * Copies consecutive input rows.
     *
     * @param from the first row
     * @param dst  receives rows {@code [from, from + dst.rows())}; {@code d} columns
     */
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
     *
     * @param n     the number of samples
     * @param arena holds the converted copy of streamed inputs
     * @param what  names the subset in error messages
     * @return the first {@code n} samples
     */
    public Dataset head(int n, Arena arena, String what) {
        Tensor x = stored != null ? stored.rowSlice(0, n) : inputRows(0, n,
                Tensor.allocate(arena, dtype(), n, inputDimension()));
        return new Dataset(x, targets.rowSlice(0, n), what);
    }

    /**
     * The targets.
     *
     * @return {@code N × K} (probability rows for cross-entropy)
     */
    public Tensor targets() {
        return targets;
    }

    /**
     * The number of samples.
     *
     * @return N
     */
    public int size() {
        return rows.rows();
    }

    /**
     * Values per input row.
     *
     * @return d
     */
    public int inputDimension() {
        return rows.cols();
    }

    /**
     * Values per target row.
     *
     * @return K
     */
    public int outputDimension() {
        return targets.cols();
    }

    /**
     * The precision of inputs and targets.
     *
     * @return the dtype
     */
    public DType dtype() {
        return rows.dtype();
    }

    /**
     * One-hot rows for integer labels.
     *
     * @param arena   owns the tensor
     * @param dtype   its dtype
     * @param labels  labels in {@code [0, classes)}
     * @param classes K
     * @return a {@code labels.length × classes} tensor
     * @throws InvalidInputException for a label out of range
     */
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

    /**
     * Checks that cross-entropy targets are probability rows: non-negative, summing to 1 within the rounding of K
     * values in their dtype (float64: 1e-14·K, float32: 1e-7·K). PyTorch's cross-entropy multiplies a row's
     * log-sum-exp by the row's sum, so a row that sums to 1 + δ changes the loss, gradient and Hessian by about δ
     * relative; hvp4j's rules take the sum as 1, and a row further off would be a wrong number.
     *
     * @param y    the targets
     * @param what names them in the error message
     * @throws InvalidInputException for a row that is not a probability vector
     */
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
            double tol = (y.dtype() == io.hvp4j.memory.DType.F64 ? 1e-14 : 1e-7) * Math.max(1, y.cols());
            if (!(Math.abs(s - 1) <= tol)) {
                throw new InvalidInputException(what + ": ce target row " + r + " sums to " + s + ", not 1 (within "
                        + tol + " in " + y.dtype().name().toLowerCase(java.util.Locale.ROOT) + "; PyTorch scales"
                        + " the loss by the row's sum): normalise the rows in float64, y / y.sum(1, keepdims=True),"
                        + " and save them as float64");
            }
        }
    }

    /**
     * The built-in synthetic set {@code gaussian:N}: standard-normal inputs; standard-normal targets for mse and
     * cosh, uniform labels (one-hot) for ce. Inputs and targets use separate seeded streams.
     *
     * @param arena   owns the tensors
     * @param dtype   their dtype
     * @param n       samples, at least 1
     * @param d       values per input
     * @param outputs K
     * @param loss    decides the kind of targets
     * @param seed    the seed
     * @return the data set
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
