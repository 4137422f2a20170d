package io.hvp4j.memory;

import java.lang.foreign.ValueLayout;
import java.util.Locale;

/** Element type of a tensor. Rank work is done in {@link #F64}; throughput is measured in both. */
public enum DType {
    /** IEEE 754 binary32 ({@code torch.float32}). */
    F32(4, 0x1p-23),
    /** IEEE 754 binary64 ({@code torch.float64}). */
    F64(8, 0x1p-52);

    private final int bytes;
    private final double epsilon;

    DType(int bytes, double epsilon) {
        this.bytes = bytes;
        this.epsilon = epsilon;
    }

    /**
     * The element size.
     *
     * @return bytes per element: 4 or 8
     */
    public int bytes() {
        return bytes;
    }

    /**
     * Machine epsilon, as numpy's {@code finfo.eps}.
     *
     * @return the distance from 1 to the next larger number: 2^-23 or 2^-52
     */
    public double epsilon() {
        return epsilon;
    }

    /**
     * The element's memory layout.
     *
     * @return the unaligned little-endian layout (the byte order of npy and safetensors files and of x86)
     */
    public ValueLayout layout() {
        return this == F32 ? ValueLayout.JAVA_FLOAT_UNALIGNED : ValueLayout.JAVA_DOUBLE_UNALIGNED;
    }

    /**
     * Parses a dtype name.
     *
     * @param s {@code f32}, {@code float32}, {@code float}, {@code f64}, {@code float64} or {@code double}
     *          (any case)
     * @return the dtype
     * @throws io.hvp4j.InvalidInputException for any other name
     */
    public static DType parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "float" -> F32;
            case "f64", "float64", "double" -> F64;
            default -> throw new io.hvp4j.InvalidInputException("unknown dtype '" + s + "' (expected f32 or f64)");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
