package io.hvp4j.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * An n-dimensional array read from (or to be written to) an {@code .npy} file: element type, C-order shape,
 * and the raw little-endian element bytes. The data segment lives as long as the arena it came from.
 *
 * @param type  element type
 * @param shape dimensions (empty for a 0-d scalar); the accessor returns a copy
 * @param data  {@code product(shape) · type.bytes()} bytes, little-endian, row-major (C order)
 */
public record NpyArray(NpyType type, long[] shape, MemorySegment data) {
    /** Copies the shape and checks it against the data's size. */
    public NpyArray {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        if (data.byteSize() != Math.multiplyExact(n, (long) type.bytes())) {
            throw new IllegalArgumentException("data of " + data.byteSize() + " bytes does not match "
                    + type + " " + Arrays.toString(shape));
        }
    }

    /**
     * A float64 ({@code <f8}) array.
     *
     * @param arena  owns the data
     * @param values the elements, row-major (copied)
     * @param shape  the dimensions
     * @return the array
     */
    public static NpyArray ofDoubles(java.lang.foreign.Arena arena, double[] values, long... shape) {
        MemorySegment s = arena.allocate(8L * values.length, 8);
        MemorySegment.copy(values, 0, s, (ValueLayout.OfDouble) NpyType.F64.fileLayout(), 0, values.length);
        return new NpyArray(NpyType.F64, shape, s);
    }

    /**
     * The dimensions.
     *
     * @return a copy (empty for a 0-d scalar)
     */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * The number of dimensions.
     *
     * @return the rank (0 for a scalar)
     */
    public int rank() {
        return shape.length;
    }

    /**
     * The number of elements.
     *
     * @return the product of the dimensions
     */
    public long size() {
        return data.byteSize() / type.bytes();
    }

    /**
     * Reads one element as a double; int64 values beyond 2^53 are rounded.
     *
     * @param i the index in the flat (C-order) storage
     * @return the element
     */
    public double getDouble(long i) {
        return switch (type) {
            case F32 -> data.getAtIndex((ValueLayout.OfFloat) type.fileLayout(), i);
            case F64 -> data.getAtIndex((ValueLayout.OfDouble) type.fileLayout(), i);
            case I32 -> data.getAtIndex((ValueLayout.OfInt) type.fileLayout(), i);
            case I64 -> data.getAtIndex((ValueLayout.OfLong) type.fileLayout(), i);
        };
    }

    /**
     * Reads one element of an integer array (I32 or I64).
     *
     * @param i the index in the flat (C-order) storage
     * @return the element
     * @throws IllegalStateException for a floating-point array
     */
    public long getLong(long i) {
        return switch (type) {
            case I32 -> data.getAtIndex((ValueLayout.OfInt) type.fileLayout(), i);
            case I64 -> data.getAtIndex((ValueLayout.OfLong) type.fileLayout(), i);
            default -> throw new IllegalStateException("getLong on a " + type + " array");
        };
    }

    /**
     * The shape for messages.
     *
     * @return the shape as numpy prints it: {@code ()}, {@code (3,)}, {@code (3, 4)}
     */
    public String shapeString() {
        return Npy.shapeTuple(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && a.type == type && Arrays.equals(a.shape, shape) && a.data.equals(data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, Arrays.hashCode(shape), data);
    }

    @Override
    public String toString() {
        return "NpyArray[" + type.descr() + " " + shapeString() + "]";
    }
}
