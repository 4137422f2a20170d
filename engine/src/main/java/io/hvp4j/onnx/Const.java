package io.hvp4j.onnx;

import io.hvp4j.InvalidInputException;

import java.util.Arrays;

/**
 * A tensor whose values are known at load time: an initializer, a {@code Constant}, or a folded shape computation.
 * Integer tensors keep {@code long} values (so that {@code INT64_MAX} slice ends stay exact), floating ones
 * {@code double}. {@code batch[i]} marks elements derived from the batch size (the first element of
 * {@code Shape(x)}), which is unknown at load time: the importer folds with a stand-in value and refuses any use
 * of a marked element other than as the leading dimension of a reshape target. Immutable.
 */
final class Const {
    /** The stand-in batch size for folding: a prime no real dimension is expected to equal. */
    static final long BATCH = 1_000_003L;

    final long[] dims;
    final boolean floating;
    final double[] f;
    final long[] i;
    final boolean[] batch; // null: no element depends on the batch size

    private Const(long[] dims, boolean floating, double[] f, long[] i, boolean[] batch) {
        this.dims = dims;
        this.floating = floating;
        this.f = f;
        this.i = i;
        this.batch = batch;
    }

    static Const ofDoubles(long[] dims, double[] v) {
        return new Const(dims.clone(), true, v, null, null);
    }

    static Const ofLongs(long[] dims, long[] v) {
        return new Const(dims.clone(), false, null, v, null);
    }

    static Const ofLongs(long[] dims, long[] v, boolean[] batch) {
        return new Const(dims.clone(), false, null, v, anyTrue(batch) ? batch : null);
    }

    static Const of(long[] dims, boolean floating, double[] f, long[] i, boolean[] batch) {
        return new Const(dims.clone(), floating, f, i, anyTrue(batch) ? batch : null);
    }

    private static boolean anyTrue(boolean[] b) {
        if (b == null) {
            return false;
        }
        for (boolean x : b) {
            if (x) {
                return true;
            }
        }
        return false;
    }

    /** Number of elements (checked to fit an int). */
    static int count(long[] dims, String what) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new InvalidInputException(what + ": negative dimension in " + Arrays.toString(dims));
            }
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new InvalidInputException(what + ": shape " + Arrays.toString(dims) + " has more than 2^31"
                        + " elements");
            }
        }
        return (int) n;
    }

    /** {@link #count}, bounded for tensors the importer computes (2^24 elements), so a hostile shape cannot exhaust memory. */
    static int countFolded(long[] dims, String what) {
        int n = count(dims, what);
        if (n > 1 << 24) {
            throw new InvalidInputException(what + ": a computed constant of shape " + Arrays.toString(dims)
                    + " is larger than 2^24 elements");
        }
        return n;
    }

    int size() {
        return floating ? f.length : i.length;
    }

    int rank() {
        return dims.length;
    }

    double doubleAt(int k) {
        return floating ? f[k] : i[k];
    }

    long longAt(int k) {
        return floating ? (long) f[k] : i[k];
    }

    boolean batchAt(int k) {
        return batch != null && batch[k];
    }

    /** The values as doubles (a copy). */
    double[] doubles() {
        double[] d = new double[size()];
        for (int k = 0; k < d.length; k++) {
            d[k] = doubleAt(k);
        }
        return d;
    }

    /** The values as integers for {@code what}; refuses floating tensors and batch-dependent elements. */
    long[] longs(String what) {
        if (floating) {
            throw new InvalidInputException(what + " must be an integer tensor");
        }
        requireNoBatch(what);
        return i.clone();
    }

    void requireNoBatch(String what) {
        if (batch != null) {
            throw new InvalidInputException(what + " depends on the batch size, which hvp4j does not fix at load"
                    + " time; only x.view(n, ...)/x.reshape(x.shape[0], ...) may use it");
        }
    }

    /** The element mask and values gathered by {@code map} into a tensor of shape {@code dims}. */
    Const gather(long[] dims, int[] map) {
        boolean[] b = batch == null ? null : new boolean[map.length];
        if (floating) {
            double[] v = new double[map.length];
            for (int k = 0; k < map.length; k++) {
                v[k] = f[map[k]];
                if (b != null) {
                    b[k] = batch[map[k]];
                }
            }
            return of(dims, true, v, null, b);
        }
        long[] v = new long[map.length];
        for (int k = 0; k < map.length; k++) {
            v[k] = i[map[k]];
            if (b != null) {
                b[k] = batch[map[k]];
            }
        }
        return of(dims, false, null, v, b);
    }

    /** The same values with another shape. */
    Const reshaped(long[] newDims) {
        return new Const(newDims.clone(), floating, f, i, batch);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims) + (floating ? Arrays.toString(f) : Arrays.toString(i));
    }
}
