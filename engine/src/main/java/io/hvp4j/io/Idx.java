package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader of IDX files, the format of MNIST and Fashion-MNIST ({@code train-images-idx3-ubyte},
 * {@code train-labels-idx1-ubyte}, optionally gzip-compressed), and the preprocessing of [SBH]'s experiments
 * (docs/theory.md §A.9).
 *
 * <p>Layout: two zero bytes, a type byte (0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32,
 * 0x0D float32, 0x0E float64), the number of dimensions, then each dimension as a big-endian 32-bit integer, then
 * the elements in row-major order, big-endian. A gzip file is recognised by its magic bytes (1f 8b), not by its
 * name.
 *
 * <p>Validation happens before anything large is allocated: the magic, the type, 1 to {@value #MAX_DIMENSIONS}
 * positive dimensions, and the size the header declares against the file's length (for gzip, against the
 * uncompressed length recorded in the gzip trailer; the stream itself is also read to its end, so a damaged or
 * truncated file is caught). Every problem is an {@link InvalidInputException} with a one-line message naming the
 * file. Stateless and thread-safe.
 */
public final class Idx {
    /** Most dimensions accepted in a header. */
    public static final int MAX_DIMENSIONS = 8;
    /**
     * Deflate's largest compression ratio (a stream of maximal back-references): a gzip file of {@code s} bytes
     * decompresses to less than {@code 1032·s} bytes, so a header that declares more is a lie that the gzip trailer
     * (which records the size only modulo 2^32) cannot reveal.
     */
    static final long MAX_GZIP_RATIO = 1032;
    /** Values allocated at first when reading a gzip file; the array grows as the decompressed data arrive. */
    private static final int GZIP_INITIAL_VALUES = 1 << 16;

    private Idx() {
    }

    /** Element types of the IDX format. */
    public enum ElementType {
        /** {@code 0x08}, unsigned byte. */
        UNSIGNED_BYTE(0x08, 1),
        /** {@code 0x09}, signed byte. */
        SIGNED_BYTE(0x09, 1),
        /** {@code 0x0B}, big-endian 16-bit integer. */
        SHORT(0x0B, 2),
        /** {@code 0x0C}, big-endian 32-bit integer. */
        INT(0x0C, 4),
        /** {@code 0x0D}, big-endian float32. */
        FLOAT(0x0D, 4),
        /** {@code 0x0E}, big-endian float64. */
        DOUBLE(0x0E, 8);

        private final int code;
        private final int bytes;

        ElementType(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }

        /**
         * The header's type byte.
         *
         * @return e.g. {@code 0x08}
         */
        public int code() {
            return code;
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
         * Whether the type is an integer type.
         *
         * @return true for the byte, short and int types
         */
        public boolean integral() {
            return this != FLOAT && this != DOUBLE;
        }

        static ElementType of(int code) {
            for (ElementType t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }

        String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', ' ');
        }
    }

    /**
     * An IDX header.
     *
     * @param type element type
     * @param dims the dimensions; {@code dims[0]} is the number of items (images, labels)
     * @param gzip whether the file is gzip-compressed
     */
    public record Header(ElementType type, int[] dims, boolean gzip) {
        /** Copies the dimensions. */
        public Header {
            dims = dims.clone();
        }

        /**
         * The dimensions.
         *
         * @return a copy; {@code dims[0]} is the number of items
         */
        @Override
        public int[] dims() {
            return dims.clone();
        }

        /**
         * The number of items.
         *
         * @return {@code dims[0]}
         */
        public int items() {
            return dims[0];
        }

        /**
         * Elements per item.
         *
         * @return the product of {@code dims[1..]} (1 for a 1-D file)
         */
        public long itemElements() {
            long e = 1;
            for (int i = 1; i < dims.length; i++) {
                e *= dims[i];
            }
            return e;
        }

        /**
         * The header's size.
         *
         * @return bytes of the header itself
         */
        public int headerBytes() {
            return 4 + 4 * dims.length;
        }

        /**
         * The file's declared size.
         *
         * @return bytes of the whole (uncompressed) file the header declares
         */
        public long declaredBytes() {
            return headerBytes() + (long) items() * itemElements() * type.bytes();
        }
    }

    /**
     * The first items of an IDX file.
     *
     * @param shape  type and dimensions of what was read: {@code dims[0]} is the number of items read, the rest as
     *               in the file
     * @param values the elements, row-major, converted exactly to double
     */
    public record Array(Header shape, double[] values) {
        /**
         * The element type.
         *
         * @return the file's element type
         */
        public ElementType type() {
            return shape.type();
        }

        /**
         * The dimensions of what was read.
         *
         * @return a copy; {@code dims[0]} is the number of items read
         */
        public int[] dims() {
            return shape.dims();
        }

        /**
         * The number of items read.
         *
         * @return {@code dims[0]}
         */
        public int items() {
            return shape.items();
        }
    }

    /**
     * Reads and validates the header (and the file's length); reads no elements.
     *
     * @param file the file
     * @return its header
     */
    public static Header header(Path file) {
        try (Source s = open(file)) {
            return s.header;
        }
    }

    /**
     * Reads the whole file.
     *
     * @param file the file
     * @return its items
     */
    public static Array read(Path file) {
        return read(file, Integer.MAX_VALUE);
    }

    /**
     * Reads the first {@code min(maxItems, items)} items ({@code maxItems ≥ 1}); the rest of the file is still read
     * (not stored) to check that it is complete.
     *
     * @param file     the file
     * @param maxItems at least 1
     * @return the items read
     */
    public static Array read(Path file, int maxItems) {
        if (maxItems < 1) {
            throw new IllegalArgumentException("maxItems must be positive, got " + maxItems);
        }
        try (Source s = open(file)) {
            Header h = s.header;
            int n = Math.min(maxItems, h.items());
            long count = (long) n * h.itemElements();
            if (count > Integer.MAX_VALUE - 8) {
                throw new InvalidInputException(file + ": reading " + n + " items of " + h.itemElements()
                        + " elements needs more than 2^31 values; read fewer items");
            }
            // A gzip header is checked against the trailer only modulo 2^32: allocate as the data arrive.
            double[] values = new double[(int) (h.gzip() ? Math.min(count, GZIP_INITIAL_VALUES) : count)];
            int bytes = h.type().bytes();
            byte[] buf = new byte[8192 * 8];
            int done = 0;
            while (done < count) {
                if (done == values.length) {
                    values = Arrays.copyOf(values, (int) Math.min(count, 2L * values.length));
                }
                int take = Math.min(buf.length / bytes, values.length - done);
                s.readFully(buf, take * bytes);
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, take * bytes).order(ByteOrder.BIG_ENDIAN);
                for (int i = 0; i < take; i++) {
                    values[done + i] = switch (h.type()) {
                        case UNSIGNED_BYTE -> bb.get() & 0xFF;
                        case SIGNED_BYTE -> bb.get();
                        case SHORT -> bb.getShort();
                        case INT -> bb.getInt();
                        case FLOAT -> bb.getFloat();
                        case DOUBLE -> bb.getDouble();
                    };
                }
                done += take;
            }
            s.skipRestAndCheckEnd((h.items() - n) * h.itemElements() * bytes);
            int[] dims = h.dims();
            dims[0] = n;
            return new Array(new Header(h.type(), dims, h.gzip()), values);
        }
    }

    /**
     * Reads labels: the first {@code min(maxItems, items)} of a 1-D integer IDX file (e.g.
     * {@code *-labels-idx1-ubyte}).
     *
     * @param file     the file
     * @param maxItems at least 1
     * @return the labels
     */
    public static int[] readLabels(Path file, int maxItems) {
        Array a = read(file, maxItems);
        if (a.dims().length != 1 || !a.type().integral()) {
            throw new InvalidInputException(file + ": expected a 1-D integer label file, got " + a.type().id()
                    + " with dimensions " + Arrays.toString(a.dims()));
        }
        int[] out = new int[a.values().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (int) a.values()[i];
        }
        return out;
    }

    /**
     * The preprocessing of [SBH]'s experiments (docs/theory.md §A.9): the first {@code n} images, scaled to [0, 1]
     * (divided by 255, never centred), resized to {@code √d × √d} by nearest-neighbour interpolation (PyTorch's
     * default {@code interpolate(mode="nearest")}: source index {@code floor(i · in/out)} computed in float32), and
     * flattened row by row.
     *
     * @param images unsigned-byte images {@code (items, rows, cols)}, at least {@code n} of them
     * @param n      images to use
     * @param d      pixels per row of the result (a square number)
     * @param arena  owns the tensor
     * @param dtype  its dtype
     * @return an {@code n × d} tensor in {@code arena}
     */
    public static Tensor preprocessImages(Array images, int n, int d, Arena arena, DType dtype) {
        int[] dims = images.dims();
        if (dims.length != 3 || images.type() != ElementType.UNSIGNED_BYTE) {
            throw new InvalidInputException("expected unsigned-byte images (items, rows, cols), got "
                    + images.type().id() + " with dimensions " + Arrays.toString(dims));
        }
        if (n < 1 || n > dims[0]) {
            throw new InvalidInputException("asked for " + n + " images but " + dims[0] + " are available");
        }
        int[] offsets = resizeOffsets(images.shape(), d, "");
        long item = images.shape().itemElements();
        Tensor x = Tensor.allocate(arena, dtype, n, d);
        double[] v = images.values();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x.set(i, j, v[(int) (i * item + offsets[j])] / 255.0);
            }
        }
        return x;
    }

    /**
     * The first {@code n} images of an unsigned-byte IDX file as {@code n × d} input rows, divided by 255: each
     * image flattened when {@code d} is its number of pixels, else ({@code (items, rows, cols)} files only)
     * resized to {@code √d × √d} as {@link #preprocessImages} does.
     *
     * <p>When the {@code n × d} rows in {@code dtype} would take at least {@link MappedFiles#threshold()} bytes,
     * the rows are streamed: an uncompressed file is mapped read-only and each batch is converted from the
     * mapped bytes when it is used; a gzip file is first decompressed once into a temporary file (the raw
     * bytes of the n images, one per pixel; its size is checked against the free space of
     * {@code java.io.tmpdir} first, and it is unlinked as soon as it is mapped), which is then mapped the same
     * way. Smaller files are converted into a tensor in {@code arena}. Either way the whole file is validated
     * first, the mapping lives as long as {@code arena}, and the Java heap never holds the images.
     *
     * @param file  the image file
     * @param n     images to use
     * @param d     values per row
     * @param arena owns the rows (or their mapping)
     * @param dtype their dtype
     * @return the rows
     */
    public static Dataset.Rows imageRows(Path file, int n, int d, Arena arena, DType dtype) {
        try (Source s = open(file)) {
            Header h = s.header;
            if (h.type() != ElementType.UNSIGNED_BYTE) {
                throw new InvalidInputException(file + ": expected unsigned-byte images, got " + h.type().id()
                        + " with dimensions " + Arrays.toString(h.dims()));
            }
            if (n < 1 || n > h.items()) {
                throw new InvalidInputException(file + ": asked for " + n + " images but " + h.items()
                        + " are available");
            }
            long item = h.itemElements();
            int[] offsets = item == d ? identity(d) : resizeOffsets(h, d, file + ": ");
            long bytes = n * item;
            long dataStart = h.headerBytes();
            if (!MappedFiles.large((long) n * d * dtype.bytes())) {
                try (Arena tmp = Arena.ofConfined()) {
                    MemorySegment raw = IoSupport.allocate(tmp, bytes);
                    s.copy(raw);
                    s.skipRestAndCheckEnd((h.items() - n) * item);
                    Tensor x = Tensor.allocate(arena, dtype, n, d);
                    new ImageRows(raw, n, item, offsets, dtype).copy(0, x);
                    return Dataset.Rows.of(x);
                }
            }
            MemorySegment raw;
            if (h.gzip()) {
                raw = MappedFiles.temporary(bytes, file + " (decompressed)", arena);
                s.copy(raw);
                s.skipRestAndCheckEnd((h.items() - n) * item);
            } else {
                raw = MappedFiles.mapReadOnly(s.channel, dataStart, bytes, arena);
            }
            return new ImageRows(raw, n, item, offsets, dtype);
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
    }

    /**
     * Input rows converted on demand from unsigned-byte pixels: row i, column j is
     * {@code (pixels[i·item + offsets[j]] & 0xFF) / 255}. Reads only, so concurrent use is safe.
     */
    private record ImageRows(MemorySegment pixels, int rows, long item, int[] offsets, DType dtype)
            implements Dataset.Rows {
        @Override
        public int cols() {
            return offsets.length;
        }

        @Override
        public void copy(int from, Tensor dst) {
            for (int r = 0; r < dst.rows(); r++) {
                long base = (from + r) * item;
                for (int j = 0; j < offsets.length; j++) {
                    dst.set(r, j, (pixels.get(ValueLayout.JAVA_BYTE, base + offsets[j]) & 0xFF) / 255.0);
                }
            }
        }
    }

    private static int[] identity(int d) {
        int[] o = new int[d];
        for (int i = 0; i < d; i++) o[i] = i;
        return o;
    }

    /**
     * For each of the {@code d} outputs of the §A.9 resize of {@code (items, rows, cols)} images to
     * {@code √d × √d}, the pixel it reads within an image; {@code prefix} starts messages.
     */
    private static int[] resizeOffsets(Header h, int d, String prefix) {
        int[] dims = h.dims();
        int side = (int) Math.round(Math.sqrt(d));
        if (dims.length != 3) {
            throw new InvalidInputException(prefix + "images with dimensions " + Arrays.toString(dims) + " have "
                    + h.itemElements() + " values each, not " + d + " (only (items, rows, cols) images are resized)");
        }
        if (h.itemElements() > Integer.MAX_VALUE) {
            throw new InvalidInputException(prefix + "images of " + dims[1] + " x " + dims[2] + " pixels are too"
                    + " large to resize (at most 2^31 - 1 pixels each)");
        }
        if (d < 1 || side * side != d) {
            throw new InvalidInputException(prefix + "the input dimension " + d + " is not a perfect square (the"
                    + " images are resized to sqrt(d) x sqrt(d))");
        }
        int cols = dims[2];
        int[] ri = nearestIndices(dims[1], side), ci = nearestIndices(cols, side);
        int[] offsets = new int[d];
        for (int a = 0; a < side; a++) {
            for (int b = 0; b < side; b++) {
                offsets[a * side + b] = ri[a] * cols + ci[b];
            }
        }
        return offsets;
    }

    /**
     * Source indices of nearest-neighbour resizing from {@code in} to {@code out} samples, as PyTorch computes them
     * for {@code interpolate(mode="nearest")} without a scale factor: {@code min(floor(i · (float) in/out), in − 1)}
     * in float32 arithmetic.
     *
     * @param in  source samples
     * @param out target samples
     * @return {@code out} source indices
     */
    public static int[] nearestIndices(int in, int out) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("sizes must be positive: " + in + " -> " + out);
        }
        float scale = (float) in / out;
        int[] idx = new int[out];
        for (int i = 0; i < out; i++) {
            float src = i * scale;
            idx[i] = Math.min((int) Math.floor(src), in - 1);
        }
        return idx;
    }

    /**
     * A classification data set from an image file and a label file (§A.9): the first {@code n} images
     * preprocessed as by {@link #preprocessImages} to {@code n × d} (streamed when large: see
     * {@link #imageRows}), and one-hot targets {@code n × classes}.
     *
     * @param images  the image file
     * @param labels  the label file
     * @param n       samples to use
     * @param d       values per input row
     * @param classes K
     * @param arena   owns the data
     * @param dtype   its dtype
     * @return the data set
     */
    public static Dataset classification(Path images, Path labels, int n, int d, int classes, Arena arena,
                                         DType dtype) {
        if (n < 1) {
            throw new InvalidInputException("the number of samples must be positive, got " + n);
        }
        Header hi = header(images), hl = header(labels);
        if (hi.items() != hl.items()) {
            throw new InvalidInputException(images + " has " + hi.items() + " images but " + labels + " has "
                    + hl.items() + " labels");
        }
        if (n > hi.items()) {
            throw new InvalidInputException("asked for " + n + " samples but " + images + " has " + hi.items());
        }
        Dataset.Rows x = imageRows(images, n, d, arena, dtype);
        int[] y = readLabels(labels, n);
        return new Dataset(x, Dataset.oneHot(arena, dtype, y, classes), images.toString());
    }

    // ------------------------------------------------------------------------------------------------ reading

    /** An open IDX file positioned after its header (decompressing when it is gzip). */
    private static final class Source implements AutoCloseable {
        final Path file;
        final Header header;
        final InputStream in;
        private final FileChannel channel;

        private Source(Path file, FileChannel channel, InputStream in, Header header) {
            this.file = file;
            this.channel = channel;
            this.in = in;
            this.header = header;
        }

        void readFully(byte[] b, int len) {
            try {
                int off = 0;
                while (off < len) {
                    int r = in.read(b, off, len - off);
                    if (r < 0) {
                        throw truncated();
                    }
                    off += r;
                }
            } catch (EOFException e) {
                throw truncated();
            } catch (IOException e) {
                throw damaged(e);
            }
        }

        /** Reads the next {@code dst.byteSize()} bytes of the stream into {@code dst}. */
        void copy(MemorySegment dst) {
            byte[] buf = new byte[1 << 16];
            for (long off = 0, size = dst.byteSize(); off < size; ) {
                int take = (int) Math.min(buf.length, size - off);
                readFully(buf, take);
                MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, off, take);
                off += take;
            }
        }

        /** Reads {@code bytes} more and then requires the end of the stream. */
        void skipRestAndCheckEnd(long bytes) {
            try {
                byte[] buf = new byte[1 << 16];
                long left = bytes;
                while (left > 0) {
                    int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                    if (r < 0) {
                        throw truncated();
                    }
                    left -= r;
                }
                if (in.read() >= 0) {
                    throw new InvalidInputException(file + ": has bytes after the " + header.declaredBytes()
                            + " its header declares (dimensions " + Arrays.toString(header.dims()) + ")");
                }
            } catch (EOFException e) {
                throw truncated();
            } catch (IOException e) {
                throw damaged(e);
            }
        }

        private InvalidInputException truncated() {
            return new InvalidInputException(file + ": is truncated (its header declares " + header.declaredBytes()
                    + " bytes for dimensions " + Arrays.toString(header.dims()) + " of " + header.type().id() + ")");
        }

        private InvalidInputException damaged(IOException e) {
            return new InvalidInputException(file + ": is damaged (" + (header.gzip() ? "gzip: " : "")
                    + e.getMessage() + ")", e);
        }

        @Override
        public void close() {
            try {
                in.close();
                channel.close();
            } catch (IOException ignored) {
                // read-only: nothing to lose
            }
        }
    }

    private static Source open(Path file) {
        FileChannel ch = IoSupport.openRead(file);
        try {
            long size = ch.size();
            byte[] start = IoSupport.readBytes(ch, file, 0, (int) Math.min(2, size));
            boolean gzip = start.length == 2 && (start[0] & 0xFF) == 0x1F && (start[1] & 0xFF) == 0x8B;
            long uncompressed = size;
            if (gzip) {
                if (size < 18) {
                    throw new InvalidInputException(file + ": is a truncated gzip file (" + size + " bytes)");
                }
                // ISIZE: the uncompressed length modulo 2^32, the last 4 bytes of a gzip member.
                byte[] tail = IoSupport.readBytes(ch, file, size - 4, 4);
                uncompressed = ByteBuffer.wrap(tail).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
            }
            ch.position(0);
            InputStream raw = Channels.newInputStream(ch);
            InputStream in;
            try {
                in = gzip ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16)
                        : new BufferedInputStream(raw, 1 << 16);
            } catch (ZipException e) {
                throw new InvalidInputException(file + ": is not a valid gzip file (" + e.getMessage() + ")", e);
            }
            Header h = readHeader(file, new DataInputStream(in), gzip, size);
            long declared = h.declaredBytes();
            if (gzip && declared / MAX_GZIP_RATIO >= size) {
                throw new InvalidInputException(file + ": its header declares dimensions " + Arrays.toString(h.dims())
                        + " of " + h.type().id() + " (" + declared + " bytes), more than a gzip file of " + size
                        + " bytes can hold (damaged header?)");
            }
            if (gzip ? (declared & 0xFFFFFFFFL) != uncompressed : declared != size) {
                String what = gzip ? "its gzip trailer records " + uncompressed + " uncompressed bytes"
                        : "the file has " + size + " bytes";
                throw new InvalidInputException(file + ": its header declares dimensions " + Arrays.toString(h.dims())
                        + " of " + h.type().id() + " (" + declared + " bytes) but " + what
                        + (gzip ? " (a truncated or damaged gzip file?)"
                        : declared > size ? " (truncated?)" : " (trailing data?)"));
            }
            return new Source(file, ch, in, h);
        } catch (IOException e) {
            closeQuietly(ch);
            throw IoSupport.readError(file, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static Header readHeader(Path file, DataInputStream in, boolean gzip, long fileSize) throws IOException {
        byte[] magic = new byte[4];
        try {
            in.readFully(magic);
        } catch (EOFException e) {
            throw new InvalidInputException(file + ": too short for an IDX header (" + fileSize + " bytes)");
        } catch (ZipException e) {
            throw new InvalidInputException(file + ": is not a valid gzip file (" + e.getMessage() + ")", e);
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new InvalidInputException(file + ": not an IDX file (magic bytes "
                    + String.format(Locale.ROOT, "%02x %02x", magic[0] & 0xFF, magic[1] & 0xFF)
                    + ", expected 00 00)");
        }
        ElementType type = ElementType.of(magic[2] & 0xFF);
        if (type == null) {
            throw new InvalidInputException(file + ": unknown IDX element type 0x"
                    + String.format(Locale.ROOT, "%02x", magic[2] & 0xFF)
                    + " (expected 08, 09, 0b, 0c, 0d or 0e)");
        }
        int ndims = magic[3] & 0xFF;
        if (ndims < 1 || ndims > MAX_DIMENSIONS) {
            throw new InvalidInputException(file + ": IDX header declares " + ndims + " dimensions (expected 1 to "
                    + MAX_DIMENSIONS + ")");
        }
        int[] dims = new int[ndims];
        for (int i = 0; i < ndims; i++) {
            try {
                dims[i] = in.readInt();
            } catch (EOFException e) {
                throw new InvalidInputException(file + ": truncated in its IDX header (" + ndims + " dimensions"
                        + " declared)");
            }
            if (dims[i] < 1) {
                throw new InvalidInputException(file + ": dimension " + i + " is "
                        + Integer.toUnsignedString(dims[i]) + " (expected 1 to " + Integer.MAX_VALUE + ")");
            }
        }
        long total = 4L + 4L * ndims;
        try {
            long elements = 1;
            for (int d : dims) {
                elements = Math.multiplyExact(elements, (long) d);
            }
            total = Math.addExact(total, Math.multiplyExact(elements, (long) type.bytes()));
        } catch (ArithmeticException e) {
            throw new InvalidInputException(file + ": IDX header declares dimensions " + Arrays.toString(dims)
                    + ", more than 2^63 bytes");
        }
        return new Header(type, dims, gzip);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to lose
        }
    }
}
