package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads and writes numpy {@code .npy} files (format versions 1.0, 2.0 and 3.0).
 *
 * <p>Only little-endian {@code <f4}, {@code <f8}, {@code <i4} and {@code <i8} in C order are accepted. Every
 * field of the header is checked against the file before any memory is allocated for the data, so a
 * malformed or hostile file costs at most its header in heap. Every problem with the file is reported as an
 * {@link InvalidInputException} whose one-line message names the file.
 *
 * <p>Writers produce version 1.0 files (2.0 if the header does not fit in 64 KiB) exactly as numpy does:
 * the header is padded with spaces and ends with {@code '\n'} so that the data starts at a multiple of 64
 * bytes. The output is written to a temporary file that is renamed into place, so a failure never leaves a
 * partial file behind.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Headers are a few hundred bytes; refuse silly ones before reading them into the heap. */
    static final int MAX_HEADER = 1 << 20;
    private static final boolean NATIVE_LE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final long MAX_EXACT_LONG = 1L << 53;

    private Npy() {
    }

    // ------------------------------------------------------------------------------------------ reading

    /**
     * Reads an {@code .npy} file.
     *
     * @param file  the file
     * @param arena owns the data
     * @return the array
     * @throws InvalidInputException on any problem with the file (missing, unreadable, malformed, unsupported)
     * @throws IllegalStateException if {@code arena} is closed
     */
    public static NpyArray read(Path file, Arena arena) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(arena, "arena");
        try (FileChannel ch = IoSupport.openRead(file)) {
            Header h = readHeader(ch, file);
            MemorySegment data = IoSupport.allocate(arena, h.dataBytes);
            IoSupport.readFully(ch, file, h.dataStart, data);
            return new NpyArray(h.type, h.shape, data);
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
    }

    /** The older name of {@link MappedFiles#THRESHOLD_PROPERTY}, which now applies to every data reader. */
    public static final String MAP_THRESHOLD_PROPERTY = MappedFiles.LEGACY_THRESHOLD_PROPERTY;

    /**
     * Reads a 1-d {@code (n,)} array as an n×1 tensor or a 2-d {@code (n, m)} array as an n×m tensor of
     * {@code want}, converting from f32, f64, i32 or i64. NaN and infinite values (also those created by
     * rounding f64 to f32) are rejected, as are int64 values beyond ±2^53 (not exactly representable).
     *
     * <p>A file already in {@code want} whose data has at least {@link MappedFiles#threshold()} bytes (64 MiB by
     * default) is mapped read-only rather than copied: data sets larger than memory are then
     * read batch by batch through the page cache. The tensor must not be written.
     *
     * @param file  the file
     * @param arena owns the tensor
     * @param want  its dtype
     * @param what  what the file holds, for messages ("vector", "inputs", ...)
     * @return an n×1 or n×m tensor
     */
    public static Tensor readMatrix(Path file, Arena arena, DType want, String what) {
        return read(file, arena, want, what, false);
    }

    /**
     * {@link #readMatrix} that also takes arrays of rank 3 or more, one row per index of the first axis: an
     * {@code (N, C, H, W)} array is read as an {@code N × C·H·W} tensor in row-major order (samples of any shape).
     *
     * @param file  the file
     * @param arena owns the tensor
     * @param want  its dtype
     * @param what  what the file holds, for messages
     * @return one row per index of the first axis
     */
    public static Tensor readRows(Path file, Arena arena, DType want, String what) {
        return read(file, arena, want, what, true);
    }

    /**
     * The shape in the header of an npy file (the data is not read).
     *
     * @param file the file
     * @return its shape
     */
    public static long[] shape(Path file) {
        try (FileChannel ch = IoSupport.openRead(file)) {
            return readHeader(ch, file).shape.clone();
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
    }

    private static Tensor read(Path file, Arena arena, DType want, String what, boolean rows) {
        Objects.requireNonNull(arena, "arena");
        Objects.requireNonNull(want, "want");
        String label = file + " (" + what + ")";
        try (FileChannel ch = IoSupport.openRead(file)) {
            Header h = readHeader(ch, file);
            int[] rc = matrixShape(label, rows ? rowsShape(h.shape) : h.shape);
            if (NATIVE_LE && h.type == NpyType.of(want)) {
                // Same type on a little-endian machine: the file bytes are the tensor. Large files are mapped
                // read-only instead of read, so that data sets larger than memory stream through the page cache
                // batch by batch (the mapping lives as long as the arena).
                MemorySegment data;
                if (MappedFiles.large(h.dataBytes) && h.dataStart % 8 == 0) {
                    data = MappedFiles.mapReadOnly(ch, h.dataStart, h.dataBytes, arena);
                } else {
                    data = IoSupport.allocate(arena, h.dataBytes);
                    IoSupport.readFully(ch, file, h.dataStart, data);
                }
                Tensor t = Tensor.wrap(data, want, rc[0], rc[1]);
                long bad = t.firstNonFinite();
                if (bad >= 0) {
                    throw nonFinite(label, bad, rc[1], t.get(bad));
                }
                return t;
            }
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment data = IoSupport.allocate(tmp, h.dataBytes);
                IoSupport.readFully(ch, file, h.dataStart, data);
                NpyArray a = new NpyArray(h.type, h.shape, data);
                return toMatrix(rows ? new NpyArray(h.type, rowsShape(h.shape), data) : a, arena, want, label);
            }
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
    }

    /**
     * Converts a 1-d {@code (n,)} or 2-d {@code (n, m)} array (e.g. an entry of an {@link Npz} archive) into a
     * new n×1 or n×m tensor of {@code want} in {@code arena}, with the checks of {@link #readMatrix}.
     *
     * @param a     the array
     * @param arena owns the tensor
     * @param want  its dtype
     * @param label names the array in messages, e.g. {@code "x.npz: entry 'X' (inputs)"}
     * @return the tensor
     */
    public static Tensor toMatrix(NpyArray a, Arena arena, DType want, String label) {
        Objects.requireNonNull(a, "a");
        int[] rc = matrixShape(label, a.shape());
        Tensor t = Tensor.allocate(arena, want, rc[0], rc[1]);
        convert(label, a, t, rc[1]);
        return t;
    }

    private static void convert(String label, NpyArray a, Tensor t, int cols) {
        boolean toF32 = t.dtype() == DType.F32;
        for (long i = 0, n = a.size(); i < n; i++) {
            double v;
            if (a.type().isFloat()) {
                v = a.getDouble(i);
                if (!Double.isFinite(v)) {
                    throw nonFinite(label, i, cols, v);
                }
            } else {
                long x = a.getLong(i);
                if (x > MAX_EXACT_LONG || x < -MAX_EXACT_LONG) {
                    throw new InvalidInputException(label + ": integer " + x + " at index " + index(i, cols)
                            + " is not exactly representable as a float (|x| > 2^53)");
                }
                v = x;
            }
            if (toF32 && Float.isInfinite((float) v)) {
                throw new InvalidInputException(label + ": value " + v + " at index " + index(i, cols)
                        + " overflows f32");
            }
            t.set(i, v);
        }
    }

    /**
     * Reads class labels: a 1-d array of int32/int64, or of floats that all hold integral values, as an
     * {@code int[]}. Negative labels and values beyond the int range are rejected.
     *
     * @param file the file
     * @return the labels
     */
    public static int[] readLabels(Path file) {
        try (Arena tmp = Arena.ofConfined()) {
            return toLabels(read(file, tmp), file + " (labels)");
        }
    }

    /**
     * The labels of a 1-d array with the checks of {@link #readLabels}.
     *
     * @param a     the array
     * @param label names it in messages
     * @return the labels
     */
    public static int[] toLabels(NpyArray a, String label) {
        if (a.rank() != 1) {
            throw new InvalidInputException(label + ": expected a 1-d array, got shape " + a.shapeString());
        }
        long n = a.size();
        if (n > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(label + ": too many labels (" + n + ")");
        }
        int[] out = new int[(int) n];
        for (int i = 0; i < out.length; i++) {
            long x;
            if (a.type().isFloat()) {
                double v = a.getDouble(i);
                if (!Double.isFinite(v) || v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
                    throw new InvalidInputException(label + ": label " + v + " at index " + i
                            + " is not an integer");
                }
                x = (long) v;
            } else {
                x = a.getLong(i);
            }
            if (x < 0) {
                throw new InvalidInputException(label + ": label " + x + " at index " + i + " is negative");
            }
            if (x > Integer.MAX_VALUE) {
                throw new InvalidInputException(label + ": label " + x + " at index " + i + " is too large");
            }
            out[i] = (int) x;
        }
        return out;
    }

    /** {@code (n, a, b, ...)} as {@code (n, a·b·...)}; ranks 1 and 2 unchanged. */
    private static long[] rowsShape(long[] shape) {
        if (shape.length <= 2) {
            return shape;
        }
        long cols = 1;
        for (int i = 1; i < shape.length; i++) {
            cols = cols * shape[i];
            if (cols > Integer.MAX_VALUE) {
                return new long[] {shape[0], Long.MAX_VALUE}; // refused by matrixShape as too large
            }
        }
        return new long[] {shape[0], cols};
    }

    private static int[] matrixShape(String label, long[] shape) {
        long rows;
        long cols;
        if (shape.length == 1) {
            rows = shape[0];
            cols = 1;
        } else if (shape.length == 2) {
            rows = shape[0];
            cols = shape[1];
        } else {
            throw new InvalidInputException(label + ": expected a 1-d or 2-d array, got shape " + shapeTuple(shape));
        }
        if (rows > Integer.MAX_VALUE - 8 || cols > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(label + ": shape " + shapeTuple(shape) + " is too large for a matrix");
        }
        return new int[] {(int) rows, (int) cols};
    }

    private static String index(long i, int cols) {
        return cols == 1 ? Long.toString(i) : i + " (row " + i / cols + ", column " + i % cols + ")";
    }

    private static InvalidInputException nonFinite(String label, long i, int cols, double v) {
        return new InvalidInputException(label + ": " + (Double.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf")
                + " at index " + index(i, cols) + " (first non-finite value)");
    }

    /** The validated header of an npy file. */
    record Header(NpyType type, long[] shape, long dataStart, long dataBytes) {
    }

    private static Header readHeader(FileChannel ch, Path file) throws IOException {
        return readHeader((pos, n) -> IoSupport.readBytes(ch, file, pos, n), ch.size(), file.toString());
    }

    /** Reads {@code n} bytes at {@code position} of an npy byte stream (positions only grow, headers only). */
    @FunctionalInterface
    interface ByteSource {
        byte[] read(long position, int n) throws IOException;
    }

    /**
     * Reads and validates the header of an npy stream of {@code size} bytes; {@code file} names it in messages
     * (a path, or "archive.npz: entry 'x'"). Nothing is allocated for the data.
     */
    static Header readHeader(ByteSource src, long size, String file) throws IOException {
        if (size < 10) {
            throw new InvalidInputException(file + ": not an npy file (only " + size + " bytes)");
        }
        byte[] pre = src.read(0, (int) Math.min(size, 12));
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre[i] != MAGIC[i]) {
                throw new InvalidInputException(file + ": not an npy file (bad magic string)");
            }
        }
        int major = pre[6] & 0xff;
        int minor = pre[7] & 0xff;
        if (minor != 0 || major < 1 || major > 3) {
            throw new InvalidInputException(file + ": unsupported npy format version " + major + "." + minor
                    + " (supported: 1.0, 2.0, 3.0)");
        }
        int prefix;
        long headerLen;
        if (major == 1) {
            prefix = 10;
            headerLen = (pre[8] & 0xff) | (pre[9] & 0xff) << 8;
        } else {
            if (size < 12) {
                throw new InvalidInputException(file + ": truncated npy header (only " + size + " bytes)");
            }
            prefix = 12;
            headerLen = ByteBuffer.wrap(pre, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
        }
        if (prefix + headerLen > size) {
            throw new InvalidInputException(file + ": header length " + headerLen + " exceeds the file size ("
                    + size + " bytes)");
        }
        if (headerLen > MAX_HEADER) {
            throw new InvalidInputException(file + ": header length " + headerLen + " is larger than the "
                    + MAX_HEADER + " bytes allowed");
        }
        byte[] raw = src.read(prefix, (int) headerLen);
        String text;
        if (major == 3) {
            try {
                text = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(raw)).toString();
            } catch (CharacterCodingException e) {
                throw new InvalidInputException(file + ": header is not valid UTF-8");
            }
        } else {
            text = new String(raw, StandardCharsets.ISO_8859_1);
        }
        HeaderDict d = new HeaderParser(file, text).parse();
        NpyType type = parseDescr(file, d.descr);
        if (d.fortranOrder) {
            throw new InvalidInputException(file + ": Fortran-order arrays are not supported "
                    + "(save with numpy.ascontiguousarray or fortran_order False)");
        }
        long elements = 1;
        for (long dim : d.shape) {
            try {
                elements = Math.multiplyExact(elements, dim);
            } catch (ArithmeticException e) {
                throw new InvalidInputException(file + ": shape " + shapeTuple(d.shape) + " is too large");
            }
        }
        long dataBytes;
        try {
            dataBytes = Math.multiplyExact(elements, (long) type.bytes());
        } catch (ArithmeticException e) {
            throw new InvalidInputException(file + ": shape " + shapeTuple(d.shape) + " is too large");
        }
        long dataStart = prefix + headerLen;
        long remaining = size - dataStart;
        if (dataBytes != remaining) {
            String what = dataBytes > remaining ? "file is truncated" : "file has trailing bytes";
            throw new InvalidInputException(file + ": " + what + ": " + type.descr() + " " + shapeTuple(d.shape)
                    + " needs " + dataBytes + " data bytes but " + remaining + " follow the header");
        }
        return new Header(type, d.shape, dataStart, dataBytes);
    }

    private static NpyType parseDescr(String file, String descr) {
        for (NpyType t : NpyType.values()) {
            if (t.descr().equals(descr)) {
                return t;
            }
        }
        boolean hasOrder = !descr.isEmpty() && "<>|=".indexOf(descr.charAt(0)) >= 0;
        String kind = hasOrder ? descr.substring(1) : descr;
        boolean known = false;
        for (NpyType t : NpyType.values()) {
            known |= t.descr().substring(1).equals(kind);
        }
        if (!known) {
            throw new InvalidInputException(file + ": unsupported dtype '" + printable(descr)
                    + "' (supported: <f4, <f8, <i4, <i8)");
        }
        if (descr.charAt(0) == '>') {
            throw new InvalidInputException(file + ": big-endian dtype '" + descr + "' is not supported "
                    + "(convert with array.astype('<" + kind + "'))");
        }
        throw new InvalidInputException(file + ": dtype '" + descr + "' does not state little-endian byte "
                + "order (expected '<" + kind + "')");
    }

    private record HeaderDict(String descr, boolean fortranOrder, long[] shape) {
    }

    /**
     * Parses the header: a Python dict literal with exactly the keys 'descr' (a string), 'fortran_order'
     * (True/False) and 'shape' (a tuple of non-negative ints), followed only by whitespace.
     */
    private static final class HeaderParser {
        private final String file;
        private final String s;
        private int pos;

        HeaderParser(String file, String s) {
            this.file = file;
            this.s = s;
        }

        private InvalidInputException error(String msg) {
            return new InvalidInputException(file + ": malformed npy header at character " + pos + ": " + msg);
        }

        private void skipWs() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        private boolean peek(char c) {
            skipWs();
            return pos < s.length() && s.charAt(pos) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'" + found());
            }
            pos++;
        }

        private String found() {
            if (pos >= s.length()) {
                return " but the header ended";
            }
            char c = s.charAt(pos);
            return c >= 0x20 && c < 0x7f ? " but found '" + c + "'" : String.format(" but found U+%04X", (int) c);
        }

        HeaderDict parse() {
            String descr = null;
            Boolean fortran = null;
            long[] shape = null;
            expect('{');
            boolean first = true;
            while (!peek('}')) {
                if (!first) {
                    expect(',');
                    if (peek('}')) {
                        break;
                    }
                }
                first = false;
                skipWs();
                int keyPos = pos;
                String key = string();
                expect(':');
                switch (key) {
                    case "descr" -> {
                        if (descr != null) {
                            throw duplicate(key, keyPos);
                        }
                        skipWs();
                        if (pos < s.length() && s.charAt(pos) != '\'' && s.charAt(pos) != '"') {
                            throw error("'descr' must be a string; structured dtypes are not supported");
                        }
                        descr = string();
                    }
                    case "fortran_order" -> {
                        if (fortran != null) {
                            throw duplicate(key, keyPos);
                        }
                        fortran = bool();
                    }
                    case "shape" -> {
                        if (shape != null) {
                            throw duplicate(key, keyPos);
                        }
                        shape = tuple();
                    }
                    default -> {
                        pos = keyPos;
                        throw error("unexpected key '" + printable(key) + "'");
                    }
                }
            }
            expect('}');
            skipWs();
            if (pos != s.length()) {
                throw error("unexpected text after the dictionary" + found());
            }
            if (descr == null || fortran == null || shape == null) {
                List<String> missing = new ArrayList<>();
                if (descr == null) {
                    missing.add("'descr'");
                }
                if (fortran == null) {
                    missing.add("'fortran_order'");
                }
                if (shape == null) {
                    missing.add("'shape'");
                }
                throw new InvalidInputException(file + ": npy header lacks " + String.join(", ", missing));
            }
            return new HeaderDict(descr, fortran, shape);
        }

        private InvalidInputException duplicate(String key, int at) {
            pos = at;
            return error("duplicate key '" + key + "'");
        }

        private String string() {
            skipWs();
            if (pos >= s.length() || (s.charAt(pos) != '\'' && s.charAt(pos) != '"')) {
                throw error("expected a quoted string" + found());
            }
            char q = s.charAt(pos++);
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(pos);
                if (c == q) {
                    pos++;
                    return sb.toString();
                }
                if (c == '\\' || c == '\n' || c == '\r') {
                    throw error("unsupported character in string" + found());
                }
                if (sb.length() > 256) {
                    throw error("string too long");
                }
                sb.append(c);
                pos++;
            }
        }

        private boolean bool() {
            skipWs();
            if (s.startsWith("True", pos) && !identChar(pos + 4)) {
                pos += 4;
                return true;
            }
            if (s.startsWith("False", pos) && !identChar(pos + 5)) {
                pos += 5;
                return false;
            }
            throw error("'fortran_order' must be True or False" + found());
        }

        private boolean identChar(int i) {
            return i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_');
        }

        private long[] tuple() {
            skipWs();
            if (pos < s.length() && s.charAt(pos) == '[') {
                throw error("'shape' must be a tuple, not a list");
            }
            expect('(');
            List<Long> dims = new ArrayList<>();
            boolean trailingComma = false;
            while (!peek(')')) {
                if (!dims.isEmpty()) {
                    expect(',');
                    trailingComma = true;
                    if (peek(')')) {
                        break;
                    }
                }
                trailingComma = false;
                if (dims.size() >= 64) {
                    throw error("more than 64 dimensions");
                }
                dims.add(integer());
            }
            if (dims.size() == 1 && !trailingComma) {
                throw error("'shape' (" + dims.getFirst() + ") is not a tuple; a 1-d shape is written ("
                        + dims.getFirst() + ",)");
            }
            expect(')');
            long[] out = new long[dims.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = dims.get(i);
            }
            return out;
        }

        private long integer() {
            skipWs();
            int start = pos;
            boolean negative = false;
            if (pos < s.length() && (s.charAt(pos) == '-' || s.charAt(pos) == '+')) {
                negative = s.charAt(pos) == '-';
                pos++;
            }
            int digits = pos;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
            if (pos == digits) {
                pos = start;
                throw error("expected a dimension (an integer)" + found());
            }
            String num = s.substring(digits, pos);
            if (num.length() > 1 && num.charAt(0) == '0') {
                pos = start;
                throw error("invalid integer '" + num + "' (leading zero)");
            }
            if (pos < s.length() && s.charAt(pos) == 'L') {
                pos++; // Python 2 long suffix, written by very old numpy versions
            }
            if (identChar(pos) || pos < s.length() && s.charAt(pos) == '.') {
                throw error("invalid dimension" + found());
            }
            if (negative && !num.chars().allMatch(c -> c == '0')) {
                pos = start;
                throw error("negative dimension -" + abbreviate(num));
            }
            if (num.length() > 18) {
                pos = start;
                throw error("dimension " + abbreviate(num) + " is too large");
            }
            return Long.parseLong(num);
        }
    }

    private static String abbreviate(String digits) {
        return digits.length() <= 30 ? digits : digits.substring(0, 20) + "...(" + digits.length() + " digits)";
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 40; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return s.length() > 40 ? sb + "..." : sb.toString();
    }

    // ------------------------------------------------------------------------------------------ writing

    /**
     * Writes {@code t} as {@code <f4} or {@code <f8} (its dtype) with shape {@code (rows,)} when
     * {@code asVector} (then {@code t.cols()} must be 1) or {@code (rows, cols)} otherwise. Atomic.
     *
     * @param file     the file to write
     * @param t        a host tensor
     * @param asVector write a 1-d array
     */
    public static void write(Path file, Tensor t, boolean asVector) {
        Objects.requireNonNull(t, "t");
        if (asVector && t.cols() != 1) {
            throw new IllegalArgumentException("cannot write a " + t.shapeString() + " tensor as a vector");
        }
        long[] shape = asVector ? new long[] {t.rows()} : new long[] {t.rows(), t.cols()};
        NpyType type = NpyType.of(t.dtype());
        MemorySegment src = t.segment();
        ValueLayout nativeLayout = t.dtype() == DType.F32 ? ValueLayout.JAVA_FLOAT_UNALIGNED
                : ValueLayout.JAVA_DOUBLE_UNALIGNED;
        writeData(file, type, shape, src, nativeLayout);
    }

    /**
     * Writes values rounded to a dtype, atomically.
     *
     * @param file  the file to write
     * @param data  the values, row-major
     * @param shape the shape ({@code {}} for a scalar)
     * @param dtype {@code <f4} or {@code <f8}
     */
    public static void write(Path file, double[] data, long[] shape, DType dtype) {
        Objects.requireNonNull(data, "data");
        long n = checkedSize(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + shapeTuple(shape) + " needs " + n + " values, got "
                    + data.length);
        }
        if (dtype == DType.F32) {
            float[] f = new float[data.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) data[i];
            }
            writeData(file, NpyType.F32, shape, MemorySegment.ofArray(f), ValueLayout.JAVA_FLOAT_UNALIGNED);
        } else {
            writeData(file, NpyType.F64, shape, MemorySegment.ofArray(data), ValueLayout.JAVA_DOUBLE_UNALIGNED);
        }
    }

    /**
     * Writes int64 values (e.g. labels), atomically.
     *
     * @param file  the file to write
     * @param data  the values, row-major
     * @param shape the shape
     */
    public static void write(Path file, long[] data, long[] shape) {
        Objects.requireNonNull(data, "data");
        long n = checkedSize(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + shapeTuple(shape) + " needs " + n + " values, got "
                    + data.length);
        }
        writeData(file, NpyType.I64, shape, MemorySegment.ofArray(data), ValueLayout.JAVA_LONG_UNALIGNED);
    }

    /**
     * Writes an array as read by {@link #read} (its data is already little-endian), atomically.
     *
     * @param file the file to write
     * @param a    the array
     */
    public static void write(Path file, NpyArray a) {
        Objects.requireNonNull(a, "a");
        writeData(file, a.type(), a.shape(), a.data(), a.type().fileLayout());
    }

    private static long checkedSize(long[] shape) {
        Objects.requireNonNull(shape, "shape");
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + shapeTuple(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The header bytes (magic through the '\n') for a C-order array. */
    static byte[] header(NpyType type, long[] shape) {
        String dict = "{'descr': '" + type.descr() + "', 'fortran_order': False, 'shape': " + shapeTuple(shape)
                + ", }";
        int major = 1;
        int prefix = 10;
        int total = prefix + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        if (padded - prefix > 0xffff) {
            major = 2;
            prefix = 12;
            total = prefix + dict.length() + 1;
            padded = (total + 63) / 64 * 64;
        }
        int headerLen = padded - prefix;
        ByteBuffer bb = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
            bb.putShort((short) headerLen);
        } else {
            bb.putInt(headerLen);
        }
        bb.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (bb.position() < padded - 1) {
            bb.put((byte) ' ');
        }
        bb.put((byte) '\n');
        return bb.array();
    }

    private static void writeData(Path file, NpyType type, long[] shape, MemorySegment src, ValueLayout srcLayout) {
        Objects.requireNonNull(file, "file");
        long n = checkedSize(shape);
        if (src.byteSize() != n * type.bytes()) {
            throw new IllegalArgumentException("data of " + src.byteSize() + " bytes does not match "
                    + type.descr() + " " + shapeTuple(shape));
        }
        byte[] header = header(type, shape);
        IoSupport.atomicWrite(file, ch -> {
            IoSupport.writeFully(ch, header);
            writeLittleEndian(ch, src, srcLayout, type.fileLayout(), n);
        });
    }

    /** Writes {@code count} elements of {@code src} (in {@code srcLayout}) as little-endian bytes. */
    static void writeLittleEndian(FileChannel ch, MemorySegment src, ValueLayout srcLayout, ValueLayout fileLayout,
                                  long count) throws IOException {
        if (srcLayout.order() == ByteOrder.LITTLE_ENDIAN && src.isNative()) {
            IoSupport.writeFully(ch, src);
            return;
        }
        int per = (int) fileLayout.byteSize();
        byte[] buf = new byte[1 << 20];
        MemorySegment stage = MemorySegment.ofArray(buf);
        long chunk = buf.length / per;
        for (long i = 0; i < count; i += chunk) {
            long k = Math.min(chunk, count - i);
            MemorySegment.copy(src, srcLayout, i * per, stage, fileLayout, 0, k);
            ByteBuffer bb = ByteBuffer.wrap(buf, 0, (int) (k * per));
            while (bb.hasRemaining()) {
                ch.write(bb);
            }
        }
    }

    /** numpy's repr of a shape tuple: {@code ()}, {@code (3,)}, {@code (3, 4)}. */
    static String shapeTuple(long[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        return sb.append(')').toString();
    }
}
