package io.hvp4j.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A dense row-major matrix of {@code rows × cols} elements of one {@link DType}, stored off-heap in a
 * {@link MemorySegment} owned by an {@link Arena} (a host tensor), or in accelerator memory
 * ({@link DeviceMemory}, a device tensor made by a device backend's {@code allocate}). A vector is a matrix
 * with one column.
 *
 * <p>Device tensors have the same shape, view and lifetime rules but no host access: {@link #segment},
 * {@link #get}, {@link #set}, {@link #copyFrom}, {@link #zero} and the other element accessors throw
 * {@link IllegalStateException} for them; the backend that owns them computes on them and moves data with
 * {@code Backend.upload}/{@code Backend.download}.
 *
 * <p>Views ({@link #rowSlice}, {@link #reshape}) share the memory and the lifetime of their parent.
 * When the owning arena is closed every access (read, write, kernel) throws {@link IllegalStateException};
 * freed memory is never read.
 *
 * <p>Not thread-safe for concurrent writes; kernels partition the memory between their own threads.
 */
public final class Tensor {
    private final MemorySegment segment;   // null for a device tensor
    private final DeviceMemory device;     // null for a host tensor
    private final long deviceOffset;       // bytes from the start of device
    private final DType dtype;
    private final int rows;
    private final int cols;

    private Tensor(MemorySegment segment, DType dtype, int rows, int cols) {
        this.segment = segment;
        this.device = null;
        this.deviceOffset = 0;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    private Tensor(DeviceMemory device, long deviceOffset, DType dtype, int rows, int cols) {
        this.segment = null;
        this.device = device;
        this.deviceOffset = deviceOffset;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    /**
     * A {@code rows × cols} view of device memory starting {@code byteOffset} bytes into {@code memory}; for
     * device backends (which allocate the memory), not for general use.
     */
    public static Tensor onDevice(DeviceMemory memory, long byteOffset, DType dtype, int rows, int cols) {
        Objects.requireNonNull(memory, "memory");
        checkShape(rows, cols);
        Objects.checkFromIndexSize(byteOffset, (long) rows * cols * dtype.bytes(), memory.byteSize());
        return new Tensor(memory, byteOffset, dtype, rows, cols);
    }

    /** Allocates a zero-filled {@code rows × cols} tensor in {@code arena}, aligned to 64 bytes. */
    public static Tensor allocate(Arena arena, DType dtype, int rows, int cols) {
        Objects.requireNonNull(arena, "arena");
        checkShape(rows, cols);
        long bytes = (long) rows * cols * dtype.bytes();
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
        return new Tensor(seg, dtype, rows, cols);
    }

    /** A column vector of {@code n} elements. */
    public static Tensor vector(Arena arena, DType dtype, int n) {
        return allocate(arena, dtype, n, 1);
    }

    /** Wraps an existing segment; its size must be exactly {@code rows·cols·bytes}. */
    public static Tensor wrap(MemorySegment segment, DType dtype, int rows, int cols) {
        checkShape(rows, cols);
        long bytes = (long) rows * cols * dtype.bytes();
        if (segment.byteSize() != bytes) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes cannot hold "
                    + rows + "x" + cols + " " + dtype);
        }
        return new Tensor(segment, dtype, rows, cols);
    }

    /** Copies a row-major double array into a new tensor (converting to {@code dtype}). */
    public static Tensor of(Arena arena, DType dtype, int rows, int cols, double[] values) {
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException("expected " + (long) rows * cols + " values, got " + values.length);
        }
        Tensor t = allocate(arena, dtype, rows, cols);
        for (int i = 0; i < values.length; i++) {
            t.set(i, values[i]);
        }
        return t;
    }

    private static void checkShape(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape " + rows + "x" + cols);
        }
    }

    /** Never started: a thread that owns no confined arena, to ask whether a segment is confined. */
    private static final Thread NOT_AN_OWNER = new Thread(() -> { });

    /**
     * True when any thread may access this tensor's memory (a shared, automatic or global arena, or a device
     * tensor); false for a host tensor of a confined arena, which only its owner thread may touch.
     */
    public boolean anyThread() {
        return !isHost() || segment().isAccessibleBy(NOT_AN_OWNER);
    }

    /** True for a tensor in host memory, false for a device tensor. */
    public boolean isHost() {
        return device == null;
    }

    /** The host memory; throws {@link IllegalStateException} for a device tensor. */
    public MemorySegment segment() {
        if (segment == null) {
            throw new IllegalStateException(this + " lives in device memory (" + device.location()
                    + "): the host cannot access it; download it with its backend");
        }
        return segment;
    }

    /** The device memory of a device tensor; throws {@link IllegalStateException} for a host tensor. */
    public DeviceMemory device() {
        if (device == null) {
            throw new IllegalStateException(this + " is a host tensor");
        }
        return device;
    }

    /** Byte offset of element 0 in {@link #device()}. */
    public long deviceOffset() {
        return deviceOffset;
    }

    private Tensor viewOf(long elementOffset, int r, int c) {
        long bytes = elementOffset * dtype.bytes();
        if (device != null) {
            return new Tensor(device, deviceOffset + bytes, dtype, r, c);
        }
        return new Tensor(segment.asSlice(bytes, (long) r * c * dtype.bytes()), dtype, r, c);
    }

    public DType dtype() {
        return dtype;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Number of elements. */
    public long size() {
        return (long) rows * cols;
    }

    /** Rows {@code [from, from+count)} as a view. */
    public Tensor rowSlice(int from, int count) {
        Objects.checkFromIndexSize(from, count, rows);
        return viewOf((long) from * cols, count, cols);
    }

    /** Elements {@code [offset, offset + rows·cols)} of the flat storage, viewed as a {@code rows × cols} matrix. */
    public Tensor view(long offset, int rows, int cols) {
        checkShape(rows, cols);
        long n = (long) rows * cols;
        Objects.checkFromIndexSize(offset, n, size());
        return viewOf(offset, rows, cols);
    }

    /** The same elements with another shape of equal size. */
    public Tensor reshape(int rows, int cols) {
        if ((long) rows * cols != size()) {
            throw new IllegalArgumentException("cannot reshape " + shapeString() + " to " + rows + "x" + cols);
        }
        return viewOf(0, rows, cols);
    }

    /** Element {@code i} of the flat storage, widened to double. */
    public double get(long i) {
        MemorySegment s = segment();
        return dtype == DType.F32
                ? s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i)
                : s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, i);
    }

    public double get(int row, int col) {
        return get((long) row * cols + col);
    }

    /** Sets element {@code i} of the flat storage, rounding to the tensor's dtype. */
    public void set(long i, double v) {
        MemorySegment s = segment();
        if (dtype == DType.F32) {
            s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) v);
        } else {
            s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, i, v);
        }
    }

    public void set(int row, int col, double v) {
        set((long) row * cols + col, v);
    }

    /** Copies all elements into a new double array (row-major). */
    public double[] toDoubleArray() {
        long n = size();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor too large for a Java array: " + n);
        }
        double[] out = new double[(int) n];
        for (int i = 0; i < out.length; i++) {
            out[i] = get(i);
        }
        return out;
    }

    /** Copies {@code src} into this tensor, converting the dtype if needed. Shapes must have equal size. */
    public void copyFrom(Tensor src) {
        if (src.size() != size()) {
            throw new IllegalArgumentException("copy of " + src.shapeString() + " into " + shapeString());
        }
        if (src.dtype == dtype) {
            MemorySegment.copy(src.segment(), 0, segment(), 0, segment().byteSize());
        } else {
            for (long i = 0, n = size(); i < n; i++) {
                set(i, src.get(i));
            }
        }
    }

    /** Sets every element to zero. */
    public void zero() {
        segment().fill((byte) 0);
    }

    /** Index of the first NaN or infinite element, or -1. */
    public long firstNonFinite() {
        for (long i = 0, n = size(); i < n; i++) {
            if (!Double.isFinite(get(i))) {
                return i;
            }
        }
        return -1;
    }

    public String shapeString() {
        return rows + "x" + cols;
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + shapeString() + (device == null ? "" : " on " + device.location()) + "]";
    }
}
