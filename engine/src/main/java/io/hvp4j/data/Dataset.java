package io.hvp4j.data;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * A data set held in memory: inputs {@code N × d} and targets {@code N × K}, row-major, one sample per row.
 * Classification targets are stored as probability rows (one-hot for integer labels). Immutable after
 * construction; its tensors live as long as the arena they were built in.
 */
public final class Dataset {
    private final Tensor inputs;
    private final Tensor targets;

    /** Validates shapes and finiteness; {@code what} names the source in error messages. */
    public Dataset(Tensor inputs, Tensor targets, String what) {
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
        requireFinite(inputs, what + " inputs");
        requireFinite(targets, what + " targets");
        this.inputs = inputs;
        this.targets = targets;
    }

    static void requireFinite(Tensor t, String what) {
        long bad = t.firstNonFinite();
        if (bad >= 0) {
            throw new InvalidInputException(what + " contain a non-finite value (" + t.get(bad) + ") at row "
                    + bad / Math.max(1, t.cols()) + ", column " + bad % Math.max(1, t.cols()));
        }
    }

    public Tensor inputs() {
        return inputs;
    }

    public Tensor targets() {
        return targets;
    }

    public int size() {
        return inputs.rows();
    }

    public int inputDimension() {
        return inputs.cols();
    }

    public int outputDimension() {
        return targets.cols();
    }

    public DType dtype() {
        return inputs.dtype();
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
            x.set(i, Initializer.gaussian(rx));
        }
        Tensor y;
        if (loss == Loss.CE) {
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = ry.nextInt(outputs);
            y = oneHot(arena, dtype, labels, outputs);
        } else {
            y = Tensor.allocate(arena, dtype, n, outputs);
            for (long i = 0; i < y.size(); i++) {
                y.set(i, Initializer.gaussian(ry));
            }
        }
        return new Dataset(x, y, "gaussian:" + n);
    }
}
