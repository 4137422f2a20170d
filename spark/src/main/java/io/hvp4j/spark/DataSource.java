package io.hvp4j.spark;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.io.Serializable;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * The rows of a data set as executors read them: each partition asks for its row range, inputs and targets
 * together (labels travel with their rows). Implementations are serializable and cheap to ship; the rows are
 * produced where they are used.
 *
 * <ul>
 *   <li>{@link #gaussian}: generated per partition from (seed, partition), so that no machine holds the whole set;
 *       the rows therefore depend on the partitioning (the same partitioning gives the same rows).</li>
 *   <li>{@link #files}: a loader that opens the whole data set lazily (a mapped or streamed file at a path every
 *       executor can read, such as a shared filesystem); each executor JVM opens it once and copies its ranges.</li>
 *   <li>{@link #arrays}: small in-memory arrays shipped with the task (tests, examples).</li>
 * </ul>
 */
public interface DataSource extends Serializable {
    /** N. */
    int size();

    /** d. */
    int inputDimension();

    /** K. */
    int outputDimension();

    /** Identifies the rows (equal keys, equal rows), for the executors' caches. */
    String key();

    /**
     * Rows {@code [from, from + count)} of partition {@code partition} as a data set in {@code dtype}, allocated in
     * {@code arena}.
     */
    Dataset rows(int partition, int from, int count, Arena arena, DType dtype);

    /** Opens a whole data set in an arena (the executor keeps it open while it caches the set). */
    @FunctionalInterface
    interface Loader extends Serializable {
        Dataset open(Arena arena, DType dtype);
    }

    /**
     * {@code gaussian:N} as {@link Dataset#gaussian}, but each partition's rows generated from its own stream
     * (seed, partition): standard-normal inputs; targets standard normal, or uniform one-hot labels for ce.
     */
    static DataSource gaussian(int n, int d, int outputs, Loss loss, long seed) {
        if (n < 1) {
            throw new InvalidInputException("gaussian data needs at least one sample, got " + n);
        }
        return new Generated(n, d, outputs, loss, seed);
    }

    /**
     * A data set opened by {@code loader} on each executor (once per JVM); {@code key} names its source (e.g. the
     * file paths), {@code n}, {@code d}, {@code k} its shape as the driver found it.
     */
    static DataSource files(String key, int n, int d, int k, Loader loader) {
        return new Opened(key, n, d, k, loader);
    }

    /** Row-major inputs {@code n × d} and targets {@code n × k} (copied). */
    static DataSource arrays(double[] inputs, double[] targets, int n, int d, int k) {
        if ((long) n * d != inputs.length || (long) n * k != targets.length) {
            throw new IllegalArgumentException("arrays of " + inputs.length + " and " + targets.length
                    + " values do not hold " + n + " rows of " + d + " inputs and " + k + " targets");
        }
        return new Arrays(inputs.clone(), targets.clone(), n, d, k);
    }

    /** The rows {@code [from, from + count)} of {@code whole}, copied into {@code arena}. */
    static Dataset slice(Dataset whole, int from, int count, Arena arena, DType dtype, String what) {
        Tensor x = Tensor.allocate(arena, dtype, count, whole.inputDimension());
        whole.copyInputs(from, x);
        Tensor y = Tensor.allocate(arena, dtype, count, whole.outputDimension());
        y.copyFrom(whole.targets().rowSlice(from, count));
        return new Dataset(x, y, what);
    }

    record Generated(int size, int inputDimension, int outputDimension, Loss loss, long seed) implements DataSource {
        @Override
        public String key() {
            return "gaussian:" + size + " " + inputDimension + "->" + outputDimension + " " + loss.id() + " seed=" + seed;
        }

        @Override
        public Dataset rows(int partition, int from, int count, Arena arena, DType dtype) {
            long s = new SplittableRandom(seed).split().nextLong() ^ (0x9E3779B97F4A7C15L * (partition + 1L));
            return Dataset.gaussian(arena, dtype, count, inputDimension, outputDimension, loss, s);
        }
    }

    record Opened(String key, int size, int inputDimension, int outputDimension, Loader loader) implements DataSource {
        @Override
        public Dataset rows(int partition, int from, int count, Arena arena, DType dtype) {
            Dataset whole = ExecutorState.opened(this, dtype);
            if (whole.size() != size || whole.inputDimension() != inputDimension
                    || whole.outputDimension() != outputDimension) {
                throw new InvalidInputException(key + " has " + whole.size() + " rows of " + whole.inputDimension()
                        + " inputs and " + whole.outputDimension() + " targets on this executor, but " + size
                        + " rows of " + inputDimension + " and " + outputDimension + " on the driver");
            }
            return slice(whole, from, count, arena, dtype, key + " rows " + from + ".." + (from + count - 1));
        }
    }

    record Arrays(double[] inputs, double[] targets, int size, int inputDimension, int outputDimension)
            implements DataSource {
        @Override
        public String key() {
            return "arrays " + size + "x" + inputDimension + "->" + outputDimension + " #"
                    + java.util.Arrays.hashCode(inputs) + "/" + java.util.Arrays.hashCode(targets);
        }

        @Override
        public Dataset rows(int partition, int from, int count, Arena arena, DType dtype) {
            double[] x = java.util.Arrays.copyOfRange(inputs, from * inputDimension, (from + count) * inputDimension);
            double[] y = java.util.Arrays.copyOfRange(targets, from * outputDimension,
                    (from + count) * outputDimension);
            return new Dataset(Tensor.of(arena, dtype, count, inputDimension, x),
                    Tensor.of(arena, dtype, count, outputDimension, y), "rows " + from + ".." + (from + count - 1));
        }
    }
}
