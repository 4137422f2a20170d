package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.IntUnaryOperator;

/**
 * Reads numeric CSV files: one sample per line, fields separated by commas, an optional header line.
 *
 * <p>Accepted: numbers in decimal or scientific notation ({@code -1.5e-3}), optionally surrounded by spaces
 * or double quotes; blank lines and lines starting with {@code #} (numpy's {@code savetxt} header) are
 * skipped; CRLF line ends. The first remaining line is a header when any of its fields is not a number
 * (then it names the columns). Every line must have as many fields as the first. Rejected with an
 * {@link InvalidInputException} naming the file, line and column: a field that is not a number, {@code nan}
 * or {@code inf} (not allowed in data), a number that overflows, a line with the wrong number of fields, an
 * empty file, a field longer than {@value #MAX_FIELD} characters, more than {@value #MAX_COLUMNS} columns.
 * Lines and columns are counted from 1, as editors do.
 *
 * <p>{@link #read(Path, Header)} parses the values into heap memory (8 bytes per value) as a {@link Table};
 * files of more than {@code 2^31 − 8} values are refused. {@link #read(Path, Header, IntUnaryOperator, Arena,
 * DType)} reads in two passes and never holds the values in the heap: the first pass validates the whole file
 * and counts its rows and columns, the second writes the values in the run's dtype straight into tensors, which
 * for data of at least {@link MappedFiles#threshold()} bytes are a mapped temporary file (see
 * {@link MappedFiles}) rather than memory.
 */
public final class Csv {
    static final int MAX_FIELD = 256;
    static final int MAX_COLUMNS = 1 << 20;
    private static final long MAX_VALUES = Integer.MAX_VALUE - 8;

    private Csv() {
    }

    /**
     * A parsed CSV table, row-major.
     *
     * @param source the file, for messages
     * @param header column names, or null without a header line
     * @param rows   data rows
     * @param cols   fields per row
     * @param values {@code rows · cols} values, row-major
     */
    public record Table(String source, List<String> header, int rows, int cols, double[] values) {
        /** Copies the header. */
        public Table {
            header = header == null ? null : List.copyOf(header);
        }

        /**
         * Columns {@code [from, to)} as a new {@code rows × (to − from)} tensor of {@code dtype}; a value that
         * overflows f32 is an {@link InvalidInputException}.
         *
         * @param from  the first column
         * @param to    one past the last column
         * @param arena owns the tensor
         * @param dtype its dtype
         * @return the columns
         */
        public Tensor columns(int from, int to, Arena arena, DType dtype) {
            if (from < 0 || to > cols || from > to) {
                throw new IllegalArgumentException("columns [" + from + ", " + to + ") of a table with " + cols);
            }
            Tensor t = Tensor.allocate(arena, dtype, rows, to - from);
            for (int r = 0; r < rows; r++) {
                for (int c = from; c < to; c++) {
                    double v = values[r * cols + c];
                    if (dtype == DType.F32 && Float.isInfinite((float) v)) {
                        throw new InvalidInputException(source + ": row " + (r + 1) + ", column " + (c + 1)
                                + ": value " + v + " overflows f32");
                    }
                    t.set(r, c - from, v);
                }
            }
            return t;
        }

        /**
         * One column as class labels.
         *
         * @param col the column
         * @return its values, each a non-negative integer
         * @throws InvalidInputException for any other value
         */
        public int[] labels(int col) {
            int[] out = new int[rows];
            for (int r = 0; r < rows; r++) {
                out[r] = label(source, r, col, values[r * cols + col]);
            }
            return out;
        }
    }

    /** {@code v}, the value at data row {@code r}, column {@code col} (0-based), as a class label. */
    private static int label(String source, int r, int col, double v) {
        if (v != Math.rint(v) || v < 0 || v > Integer.MAX_VALUE) {
            throw new InvalidInputException(source + ": row " + (r + 1) + ", column " + (col + 1)
                    + ": label " + v + " is not a non-negative integer");
        }
        return (int) v;
    }

    /**
     * A CSV file read into tensors of one dtype, split at a column.
     *
     * @param source the file, for messages
     * @param header column names, or null without a header line
     * @param rows   data rows
     * @param cols   fields per row
     * @param split  the first column of {@code right}
     * @param left   columns {@code [0, split)}, {@code rows × split}
     * @param right  columns {@code [split, cols)}, or null when {@code split == cols}
     */
    public record Columns(String source, List<String> header, int rows, int cols, int split, Tensor left,
                          Tensor right) {
        /** Copies the header. */
        public Columns {
            header = header == null ? null : List.copyOf(header);
        }

        /**
         * The single column of {@code right} as class labels.
         *
         * @return its values, each a non-negative integer
         * @throws InvalidInputException for any other value
         */
        public int[] labels() {
            if (right == null || right.cols() != 1) {
                throw new IllegalStateException("labels need exactly one column after the split");
            }
            int[] out = new int[rows];
            for (int r = 0; r < rows; r++) {
                out[r] = label(source, r, split, right.get(r));
            }
            return out;
        }
    }

    /**
     * Reads and validates a CSV file in two passes into tensors of {@code dtype}: columns {@code [0, s)} and
     * {@code [s, cols)} with {@code s = split.applyAsInt(cols)} (which may throw an
     * {@link InvalidInputException} to refuse the column count). The first pass checks every line (including
     * that values fit {@code dtype}) and counts rows; the second writes the values into memory of
     * {@code arena}, or into a mapped temporary file when the data take at least {@link MappedFiles#threshold()}
     * bytes. The heap never holds the values.
     *
     * @param file   the file
     * @param header whether the first line is a header
     * @param split  gives s from the column count (may throw to refuse it)
     * @param arena  owns the tensors
     * @param dtype  their dtype
     * @return the two column blocks
     * @throws InvalidInputException on any problem with the file, naming its line and column
     */
    public static Columns read(Path file, Header header, IntUnaryOperator split, Arena arena, DType dtype) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(header, "header");
        Objects.requireNonNull(dtype, "dtype");
        Layout first = pass(file, header, (parser, row, v) -> {
            if (dtype == DType.F32) {
                for (int c = 0; c < v.length; c++) {
                    if (Float.isInfinite((float) v[c])) {
                        throw parser.error(c + 1, "value " + v[c] + " overflows f32");
                    }
                }
            }
        });
        int rows = first.rows, cols = first.cols;
        int s = split.applyAsInt(cols);
        if (s < 0 || s > cols) {
            throw new IllegalArgumentException("split " + s + " outside [0, " + cols + "]");
        }
        long leftBytes = (long) rows * s * dtype.bytes(), rightBytes = (long) rows * (cols - s) * dtype.bytes();
        Tensor left, right;
        if (MappedFiles.large(leftBytes + rightBytes)) {
            MemorySegment seg = MappedFiles.temporary(leftBytes + rightBytes,
                    file + " (converted to " + dtype + ")", arena);
            left = Tensor.wrap(seg.asSlice(0, leftBytes), dtype, rows, s);
            right = Tensor.wrap(seg.asSlice(leftBytes, rightBytes), dtype, rows, cols - s);
        } else {
            left = Tensor.allocate(arena, dtype, rows, s);
            right = Tensor.allocate(arena, dtype, rows, cols - s);
        }
        Layout second = pass(file, header, (parser, row, v) -> {
            if (row >= rows || v.length != cols) {
                throw parser.error(0, "the file changed while it was being read");
            }
            for (int c = 0; c < s; c++) left.set(row, c, v[c]);
            for (int c = s; c < cols; c++) right.set(row, c - s, v[c]);
        });
        if (second.rows != rows) {
            throw new InvalidInputException(file + ": the file changed while it was being read");
        }
        return new Columns(file.toString(), first.header, rows, cols, s, left, s == cols ? null : right);
    }

    /** Receives each data row's values (0-based data row); may throw the parser's errors. */
    @FunctionalInterface
    private interface RowSink {
        void row(Parser parser, int row, double[] values);
    }

    /** What one pass found: the header and the counts. */
    private record Layout(List<String> header, int rows, int cols) {
    }

    private static Layout pass(Path file, Header header, RowSink sink) {
        try (FileChannel ch = IoSupport.openRead(file);
             InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 1 << 16)) {
            return new Parser(file.toString(), in, header).scan(sink);
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
    }

    /** Whether the first line (after comments and blank lines) names the columns. */
    public enum Header {
        /** A header when any field of the first line is a word (not a number, NaN, Inf or empty). */
        AUTO,
        /** The first line is a header (also when its names look like numbers, e.g. pandas' 0,1,2). */
        PRESENT,
        /** Every line is data. */
        ABSENT
    }

    /**
     * Reads a CSV file with {@link Header#AUTO} header detection.
     *
     * @param file the file
     * @return its table
     * @throws InvalidInputException on any problem with the file
     */
    public static Table read(Path file) {
        return read(file, Header.AUTO);
    }

    /**
     * Reads and validates a CSV file.
     *
     * @param file   the file
     * @param header whether the first line is a header
     * @return its table
     * @throws InvalidInputException on any problem with the file
     */
    public static Table read(Path file, Header header) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(header, "header");
        try (FileChannel ch = IoSupport.openRead(file);
             InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 1 << 16)) {
            return new Parser(file.toString(), in, header).parse();
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
    }

    private static final class Parser {
        private final String file;
        private final InputStream in;
        private final byte[] field = new byte[MAX_FIELD];
        private final Header headerMode;
        private int line = 1;

        Parser(String file, InputStream in, Header headerMode) {
            this.file = file;
            this.in = in;
            this.headerMode = headerMode;
        }

        InvalidInputException error(int column, String msg) {
            return new InvalidInputException(file + ": line " + line + (column > 0 ? ", column " + column : "")
                    + ": " + msg);
        }

        Table parse() throws IOException {
            double[][] values = {new double[1024]};
            long[] n = {0};
            Layout l = scan((parser, row, v) -> {
                if (n[0] + v.length > MAX_VALUES) {
                    throw error(0, "too many values (more than " + MAX_VALUES + ")");
                }
                if (n[0] + v.length > values[0].length) {
                    values[0] = Arrays.copyOf(values[0],
                            (int) Math.min(MAX_VALUES, Math.max(n[0] + v.length, 2L * values[0].length)));
                }
                System.arraycopy(v, 0, values[0], (int) n[0], v.length);
                n[0] += v.length;
            });
            return new Table(file, l.header, l.rows, l.cols, Arrays.copyOf(values[0], (int) n[0]));
        }

        /** Validates every line, handing each data row's values to {@code sink}. */
        Layout scan(RowSink sink) throws IOException {
            List<String> header = null;
            int cols = -1;
            int rows = 0;
            double[] row = null;
            List<String> raw = new ArrayList<>();
            while (true) {
                raw.clear();
                int c = readLine(raw);
                if (c == -2) {
                    break; // end of file
                }
                if (raw.isEmpty()) {
                    line++;
                    continue; // blank or comment line
                }
                if (cols < 0) {
                    cols = raw.size();
                    row = new double[cols];
                    boolean word = false;
                    for (String f : raw) {
                        word |= !f.isEmpty() && !isNumber(f) && !isNanOrInf(f);
                    }
                    if (headerMode == Header.PRESENT || headerMode == Header.AUTO && word) {
                        header = new ArrayList<>(raw);
                        line++;
                        continue;
                    }
                } else if (raw.size() != cols) {
                    throw error(0, "has " + raw.size() + " field(s) but the first line has " + cols);
                }
                if (rows == Integer.MAX_VALUE - 8) {
                    throw error(0, "too many rows (more than " + rows + ")");
                }
                for (int i = 0; i < cols; i++) {
                    row[i] = number(raw.get(i), i + 1);
                }
                sink.row(this, rows, row);
                rows++;
                line++;
            }
            if (rows == 0) {
                throw new InvalidInputException(file + ": no data rows" + (header != null ? " (only a header)" : ""));
            }
            return new Layout(header, rows, cols);
        }

        /**
         * Reads one line's fields into {@code out} (empty for a blank or comment line). Returns -2 at the end of
         * the file when nothing was read, 0 otherwise.
         */
        private int readLine(List<String> out) throws IOException {
            int b = in.read();
            if (b < 0) {
                return -2;
            }
            if (b == '#') {
                while (b >= 0 && b != '\n') {
                    b = in.read();
                }
                return 0;
            }
            int len = 0;
            while (true) {
                if (b < 0 || b == '\n' || b == ',') {
                    String f = trim(len);
                    if (b == ',' || !f.isEmpty() || !out.isEmpty()) {
                        if (out.size() >= MAX_COLUMNS) {
                            throw error(0, "more than " + MAX_COLUMNS + " fields");
                        }
                        out.add(f);
                    }
                    len = 0;
                    if (b != ',') {
                        return 0;
                    }
                } else if (b == '\r') {
                    int next = in.read();
                    if (next != '\n' && next >= 0) {
                        throw error(out.size() + 1, "carriage return inside a line");
                    }
                    b = next;
                    continue;
                } else {
                    if (len == MAX_FIELD) {
                        throw error(out.size() + 1, "field longer than " + MAX_FIELD + " characters");
                    }
                    field[len++] = (byte) b;
                }
                b = in.read();
            }
        }

        /** The field without surrounding spaces/tabs and one pair of surrounding double quotes. */
        private String trim(int len) {
            int s = 0, e = len;
            while (s < e && (field[s] == ' ' || field[s] == '\t')) {
                s++;
            }
            while (e > s && (field[e - 1] == ' ' || field[e - 1] == '\t')) {
                e--;
            }
            if (e - s >= 2 && field[s] == '"' && field[e - 1] == '"') {
                s++;
                e--;
            }
            return new String(field, s, e - s, StandardCharsets.UTF_8);
        }

        private double number(String f, int column) {
            if (!isNumber(f)) {
                if (isNanOrInf(f)) {
                    throw error(column, "'" + Json.printable(f) + "' is not allowed (NaN and Inf are not valid data)");
                }
                throw error(column, f.isEmpty() ? "empty field" : "'" + Json.printable(f) + "' is not a number");
            }
            double v = Double.parseDouble(f);
            if (Double.isInfinite(v)) {
                throw error(column, "'" + Json.printable(f) + "' overflows a double");
            }
            return v;
        }
    }

    static boolean isNanOrInf(String f) {
        return f.toLowerCase(java.util.Locale.ROOT).matches("[+-]?(nan|inf|infinity)");
    }

    /** A decimal number: optional sign, digits with an optional point, optional exponent (no hex, no suffix). */
    private static final java.util.regex.Pattern NUMBER =
            java.util.regex.Pattern.compile("[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?");

    static boolean isNumber(String f) {
        return NUMBER.matcher(f).matches();
    }
}
