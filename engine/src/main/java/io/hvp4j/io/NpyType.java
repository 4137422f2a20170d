package io.hvp4j.io;

import io.hvp4j.memory.DType;

import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;

/** Element types the npy reader understands; all little-endian. */
public enum NpyType {
    F32("<f4", 4),
    F64("<f8", 8),
    I32("<i4", 4),
    I64("<i8", 8);

    private final String descr;
    private final int bytes;

    NpyType(String descr, int bytes) {
        this.descr = descr;
        this.bytes = bytes;
    }

    /** The numpy dtype descriptor, e.g. {@code <f8}. */
    public String descr() {
        return descr;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    public boolean isFloat() {
        return this == F32 || this == F64;
    }

    /** The npy type holding a tensor of {@code dtype}. */
    public static NpyType of(DType dtype) {
        return dtype == DType.F32 ? F32 : F64;
    }

    /** Unaligned little-endian layout of one element in a file. */
    ValueLayout fileLayout() {
        return switch (this) {
            case F32 -> ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            case F64 -> ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            case I32 -> ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            case I64 -> ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        };
    }
}
