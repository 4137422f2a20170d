package io.hvp4j.io;

import io.hvp4j.memory.DType;

import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;

/** Element types the npy reader understands; all little-endian. */
public enum NpyType {
    /** float32, {@code <f4}. */
    F32("<f4", 4),
    /** float64, {@code <f8}. */
    F64("<f8", 8),
    /** int32, {@code <i4}. */
    I32("<i4", 4),
    /** int64, {@code <i8}. */
    I64("<i8", 8);

    private final String descr;
    private final int bytes;

    NpyType(String descr, int bytes) {
        this.descr = descr;
        this.bytes = bytes;
    }

    /**
     * The numpy dtype descriptor.
     *
     * @return e.g. {@code <f8}
     */
    public String descr() {
        return descr;
    }

    /**
     * The element size.
     *
     * @return bytes per element
     */
    public int bytes() {
        return bytes;
    }

    /**
     * Whether the type is floating-point.
     *
     * @return true for F32 and F64
     */
    public boolean isFloat() {
        return this == F32 || this == F64;
    }

    /**
     * The npy type holding a tensor.
     *
     * @param dtype the tensor's dtype
     * @return F32 or F64
     */
    public static NpyType of(DType dtype) {
        return dtype == DType.F32 ? F32 : F64;
    }

    /**
     * One element's layout in a file.
     *
     * @return the unaligned little-endian layout
     */
    ValueLayout fileLayout() {
        return switch (this) {
            case F32 -> ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            case F64 -> ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            case I32 -> ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            case I64 -> ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        };
    }
}
