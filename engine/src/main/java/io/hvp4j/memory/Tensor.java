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
     *
     * @param memory     the device allocation (owned by its backend)
     * @param byteOffset where element 0 starts, in bytes
     * @param dtype      the element type
     * @param rows       rows of the view
     * @param cols       columns of the view
     * @return the device tensor
     */
    public static Tensor onDevice(DeviceMemory memory, long byteOffset, DType dtype, int rows, int cols) {
        Objects.requireNonNull(memory, "memory");
        checkShape(rows, cols);
        Objects.checkFromIndexSize(byteOffset, (long) rows * cols * dtype.bytes(), memory.byteSize());
        return new Tensor(memory, byteOffset, dtype, rows, cols);
    }

    /**
     * Allocates a zero-filled tensor, aligned to 64 bytes.
     *
     * @param arena owns the memory (closing it frees the tensor)
     * @param dtype the element type
     * @param rows  rows, at least 0
     * @param cols  columns, at least 0
     * @return a host tensor of {@code rows × cols} zeros
     */
    public static Tensor allocate(Arena arena, DType dtype, int rows, int cols) {
        Objects.requireNonNull(arena, "arena");
        checkShape(rows, cols);
        long bytes = (long) rows * cols * dtype.bytes();
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
        return new Tensor(seg, dtype, rows, cols);
    }

    /**
     * Allocates a zero-filled column vector.
     *
     * @param arena owns the memory
     * @param dtype the element type
     * @param n     the number of elements
     * @return an {@code n × 1} tensor
     */
    public static Tensor vector(Arena arena, DType dtype, int n) {
        return allocate(arena, dtype, n, 1);
    }

    /**
     * Wraps an existing segment (no copy); the tensor lives as long as the segment's arena.
     *
     * @param segment host memory of exactly {@code rows·cols·dtype.bytes()} bytes
     * @param dtype   the element type
     * @param rows    rows
     * @param cols    columns
     * @return the tensor over {@code segment}
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, int rows, int cols) {
        checkShape(rows, cols);
        long bytes = (long) rows * cols * dtype.bytes();
        if (segment.byteSize() != bytes) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes cannot hold "
                    + rows + "x" + cols + " " + dtype);
        }
        return new Tensor(segment, dtype, rows, cols);
    }

    /**
     * Copies a row-major double array into a new tensor.
     *
     * @param arena  owns the memory
     * @param dtype  the element type (values are rounded to it)
     * @param rows   rows
     * @param cols   columns
     * @param values {@code rows·cols} values, row-major
     * @return the new host tensor
     */
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
     *
     * @return whether any thread may access the memory
     */
    public boolean anyThread() {
        return !isHost() || segment().isAccessibleBy(NOT_AN_OWNER);
    }

    /**
     * Where the tensor lives.
     *
     * @return true for a tensor in host memory, false for a device tensor
     */
    public boolean isHost() {
        return device == null;
    }

    /**
     * The host memory.
     *
     * @return the segment holding the elements
     * @throws IllegalStateException for a device tensor
     */
    public MemorySegment segment() {
        if (segment == null) {
            throw new IllegalStateException(this + " lives in device memory (" + device.location()
                    + "): the host cannot access it; download it with its backend");
        }
        return segment;
    }

    /**
     * The device memory.
     *
     * @return the allocation holding the elements
     * @throws IllegalStateException for a host tensor
     */
    public DeviceMemory device() {
        if (device == null) {
            throw new IllegalStateException(this + " is a host tensor");
        }
        return device;
    }

    /**
     * Where a device tensor starts.
     *
     * @return the byte offset of element 0 in {@link #device()} (0 for a host tensor)
     */
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

    /**
     * The element type.
     *
     * @return F32 or F64
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * The number of rows.
     *
     * @return rows
     */
    public int rows() {
        return rows;
    }

    /**
     * The number of columns.
     *
     * @return columns
     */
    public int cols() {
        return cols;
    }

    /**
     * The number of elements.
     *
     * @return {@code rows·cols}
     */
    public long size() {
        return (long) rows * cols;
    }

    /**
     * Consecutive rows as a view.
     *
     * @param from  the first row
     * @param count the number of rows
     * @return rows {@code [from, from+count)}, sharing this tensor's memory
     */
    public Tensor rowSlice(int from, int count) {
        Objects.checkFromIndexSize(from, count, rows);
        return viewOf((long) from * cols, count, cols);
    }

    /**
     * A range of the flat storage as a matrix view.
     *
     * @param offset the first element
     * @param rows   rows of the view
     * @param cols   columns of the view
     * @return elements {@code [offset, offset + rows·cols)} as a {@code rows × cols} matrix, sharing the memory
     */
    public Tensor view(long offset, int rows, int cols) {
        checkShape(rows, cols);
        long n = (long) rows * cols;
        Objects.checkFromIndexSize(offset, n, size());
        return viewOf(offset, rows, cols);
    }

    /**
     * The same elements with another shape of equal size.
     *
     * @param rows new rows
     * @param cols new columns
     * @return a view sharing the memory
     */
    public Tensor reshape(int rows, int cols) {
        if ((long) rows * cols != size()) {
            throw new IllegalArgumentException("cannot reshape " + shapeString() + " to " + rows + "x" + cols);
        }
        return viewOf(0, rows, cols);
    }

    /**
     * Reads one element of the flat (row-major) storage.
     *
     * @param i the flat index
     * @return the element, widened to double
     */
    public double get(long i) {
        MemorySegment s = segment();
        return dtype == DType.F32
                ? s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i)
                : s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, i);
    }

    /**
     * Reads one element.
     *
     * @param row the row
     * @param col the column
     * @return the element, widened to double
     */
    public double get(int row, int col) {
        return get((long) row * cols + col);
    }

    /**
     * Writes one element of the flat (row-major) storage.
     *
     * @param i the flat index
     * @param v the value, rounded to the tensor's dtype
     */
    public void set(long i, double v) {
        MemorySegment s = segment();
        if (dtype == DType.F32) {
            s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) v);
        } else {
            s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, i, v);
        }
    }

    /**
     * Writes one element.
     *
     * @param row the row
     * @param col the column
     * @param v   the value, rounded to the tensor's dtype
     */
    public void set(int row, int col, double v) {
        set((long) row * cols + col, v);
    }

    /**
     * Copies all elements out.
     *
     * @return a new row-major array of {@link #size()} values
     */
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

    /**
     * Copies another tensor's elements into this one, converting the dtype if needed.
     *
     * @param src a host tensor of the same size (any shape)
     */
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

    /**
     * Finds the first element that is not finite.
     *
     * @return the flat index of the first NaN or infinite element, or -1
     */
    public long firstNonFinite() {
        for (long i = 0, n = size(); i < n; i++) {
            if (!Double.isFinite(get(i))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The shape for messages.
     *
     * @return {@code "ROWSxCOLS"}
     */
    public String shapeString() {
        return rows + "x" + cols;
    }

    /**
     * The SHA-256 of this host tensor's bytes (hex), then its shape and dtype: equal strings, equal values bit for
     * bit. For checkpoint fingerprints. A device tensor has no host bytes: download it first.
     *
     * @return {@code "<64 hex digits>/<rows>x<cols>/<dtype>"}
     * @throws IllegalStateException for a device tensor
     */
    public String sha256() {
        if (!isHost()) {
            throw new IllegalStateException("sha256() needs a host tensor; download " + this + " first");
        }
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            long bytes = segment().byteSize();
            for (long off = 0; off < bytes; off += 1 << 26) {
                md.update(segment().asSlice(off, Math.min(1 << 26, bytes - off)).asByteBuffer());
            }
            return java.util.HexFormat.of().formatHex(md.digest()) + "/" + shapeString() + "/" + dtype;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + shapeString() + (device == null ? "" : " on " + device.location()) + "]";
    }
}
