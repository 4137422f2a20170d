package io.hvp4j.graph;

import java.util.Arrays;

/**
 * The shape of one sample of a graph value (the batch axis excluded), or of a whole parameter or constant,
 * row-major as in PyTorch: {@code (C, H, W)} for an image, {@code (out, in)} for a linear weight,
 * {@code (out, in/groups, kh, kw)} for a convolution weight. Immutable.
 */
public final class Shape {
    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        long s = 1;
        for (int d : dims) {
            if (d < 1) {
                throw new IllegalArgumentException("dimensions must be positive: " + Arrays.toString(dims));
            }
            s = Math.multiplyExact(s, d);
        }
        this.dims = dims.clone();
        this.size = s;
    }

    /**
     * A shape.
     *
     * @param dims the sizes of the axes, each at least 1 (copied)
     * @return the shape
     */
    public static Shape of(int... dims) {
        return new Shape(dims);
    }

    /**
     * The number of axes.
     *
     * @return the rank
     */
    public int rank() {
        return dims.length;
    }

    /**
     * One axis's size.
     *
     * @param axis the axis (negative counts from the end)
     * @return its size
     */
    public int dim(int axis) {
        return dims[axis < 0 ? dims.length + axis : axis];
    }

    /**
     * All sizes.
     *
     * @return the axes' sizes (a copy)
     */
    public int[] dims() {
        return dims.clone();
    }

    /**
     * The number of elements.
     *
     * @return the product of the sizes
     */
    public long size() {
        return size;
    }

    /**
     * The number of elements as an int.
     *
     * @return the product of the sizes
     * @throws IllegalArgumentException for more than 2^31−1 elements
     */
    public int intSize() {
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + this + " has more than 2^31-1 elements");
        }
        return (int) size;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            b.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        return b.append(dims.length == 1 ? ",)" : ")").toString();
    }
}
