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
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A {@code .safetensors} file: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (plus an optional
 * {@code "__metadata__"} string map), then the data buffer, which the tensors must tile exactly.
 *
 * <p>{@link #read} validates the whole file (header size, JSON syntax, every entry, the tiling of the
 * buffer) before allocating anything for the data, then reads the buffer into the caller's arena.
 * {@link #tensor} converts one entry (F32, F64, F16 or BF16) into a fresh 64-byte-aligned tensor in the same
 * arena. Entries of other standard dtypes (I64, U8, BOOL, ...) are accepted in the layout but cannot be
 * loaded as tensors. Every problem is an {@link InvalidInputException} whose message names the file.
 */
public final class SafeTensors {
    /** Largest JSON header accepted, as in the reference implementation. */
    public static final long MAX_HEADER = 100_000_000L;
    private static final String METADATA = "__metadata__";
    /** The standard safetensors dtypes and their element sizes. */
    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1),
            Map.entry("F8_E5M2", 1), Map.entry("F8_E4M3", 1),
            Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LE_DOUBLE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private record Entry(String name, String dtype, long[] shape, long begin, long end) {
    }

    private final Path file;
    private final Arena arena;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final MemorySegment buffer;

    private SafeTensors(Path file, Arena arena, Map<String, Entry> entries, Map<String, String> metadata,
                        MemorySegment buffer) {
        this.file = file;
        this.arena = arena;
        this.entries = entries;
        this.metadata = metadata;
        this.buffer = buffer;
    }

    // ------------------------------------------------------------------------------------------ reading

    /**
     * Reads and validates a safetensors file.
     *
     * @param file  the file
     * @param arena owns its data buffer
     * @return the file's tensors
     * @throws InvalidInputException on any problem with the file
     * @throws IllegalStateException if {@code arena} is closed
     */
    public static SafeTensors read(Path file, Arena arena) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(arena, "arena");
        try (FileChannel ch = IoSupport.openRead(file)) {
            long size = ch.size();
            if (size < 8) {
                throw new InvalidInputException(file + ": not a safetensors file (only " + size + " bytes)");
            }
            long n = ByteBuffer.wrap(IoSupport.readBytes(ch, file, 0, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (n < 0 || n > size - 8) {
                throw new InvalidInputException(file + ": header length " + Long.toUnsignedString(n)
                        + " exceeds the file size (" + size + " bytes)");
            }
            if (n > MAX_HEADER) {
                throw new InvalidInputException(file + ": header length " + n + " is larger than the "
                        + MAX_HEADER + " bytes allowed");
            }
            if (n < 2) {
                throw new InvalidInputException(file + ": header of " + n + " bytes cannot hold a JSON object");
            }
            byte[] raw = IoSupport.readBytes(ch, file, 8, (int) n);
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(raw)).toString();
            } catch (CharacterCodingException e) {
                throw new InvalidInputException(file + ": header is not valid UTF-8");
            }
            if (text.charAt(0) != '{') {
                throw new InvalidInputException(file + ": header does not start with '{' (not a safetensors file?)");
            }
            Object json;
            try {
                json = Json.parse(text);
            } catch (Json.JsonException e) {
                throw new InvalidInputException(file + ": malformed JSON header at character " + e.position
                        + ": " + e.getMessage());
            }
            long bufferSize = size - 8 - n;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = Map.of();
            if (!(json instanceof Map<?, ?> top)) {
                throw new InvalidInputException(file + ": header is not a JSON object");
            }
            for (Map.Entry<?, ?> e : top.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals(METADATA)) {
                    metadata = parseMetadata(file, e.getValue());
                } else {
                    entries.put(name, parseEntry(file, name, e.getValue(), bufferSize));
                }
            }
            checkTiling(file, entries.values(), bufferSize);
            MemorySegment buffer = IoSupport.allocate(arena, bufferSize);
            IoSupport.readFully(ch, file, 8 + n, buffer);
            return new SafeTensors(file, arena, Collections.unmodifiableMap(entries), metadata, buffer);
        } catch (IOException e) {
            throw IoSupport.readError(file, e);
        }
    }

    private static Map<String, String> parseMetadata(Path file, Object v) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new InvalidInputException(file + ": \"__metadata__\" must be an object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new InvalidInputException(file + ": \"__metadata__\" value for \""
                        + Json.printable((String) e.getKey()) + "\" is not a string");
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry parseEntry(Path file, String name, Object v, long bufferSize) {
        String where = file + ": tensor '" + Json.printable(name) + "'";
        if (!(v instanceof Map<?, ?> m)) {
            throw new InvalidInputException(where + " is not an object");
        }
        for (Object k : m.keySet()) {
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw new InvalidInputException(where + " has unexpected key \"" + Json.printable((String) k) + "\"");
            }
        }
        if (!(m.get("dtype") instanceof String dtype)) {
            throw new InvalidInputException(where + (m.containsKey("dtype") ? ": \"dtype\" is not a string"
                    : " lacks \"dtype\""));
        }
        Integer itemSize = DTYPE_BYTES.get(dtype);
        if (itemSize == null) {
            throw new InvalidInputException(where + " has unknown dtype \"" + Json.printable(dtype)
                    + "\" (supported: F32, F64, F16, BF16)");
        }
        long[] shape = longArray(where, "shape", m.get("shape"), -1);
        long[] offsets = longArray(where, "data_offsets", m.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new InvalidInputException(where + " data_offsets [" + begin + ", " + end + "] are reversed");
        }
        if (end > bufferSize) {
            throw new InvalidInputException(where + " data_offsets [" + begin + ", " + end
                    + "] exceed the data buffer of " + bufferSize + " bytes");
        }
        long need = itemSize;
        for (long d : shape) {
            try {
                need = Math.multiplyExact(need, d);
            } catch (ArithmeticException e) {
                throw new InvalidInputException(where + " shape " + Arrays.toString(shape) + " is too large");
            }
        }
        if (end - begin != need) {
            throw new InvalidInputException(where + " data_offsets [" + begin + ", " + end + "] hold "
                    + (end - begin) + " bytes but " + dtype + " " + Arrays.toString(shape) + " needs " + need);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers (of length {@code len} unless it is -1). */
    private static long[] longArray(String where, String key, Object v, int len) {
        if (v == null) {
            throw new InvalidInputException(where + " lacks \"" + key + "\"");
        }
        if (!(v instanceof List<?> list)) {
            throw new InvalidInputException(where + ": \"" + key + "\" is not an array");
        }
        if (len >= 0 && list.size() != len) {
            throw new InvalidInputException(where + ": \"" + key + "\" must have " + len + " entries, not "
                    + list.size());
        }
        if (list.size() > 64) {
            throw new InvalidInputException(where + ": \"" + key + "\" has more than 64 entries");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Json.Number num) || !num.isInteger()) {
                throw new InvalidInputException(where + ": \"" + key + "\" entry " + Json.printable(
                        String.valueOf(list.get(i))) + " is not an integer");
            }
            String t = num.text();
            if (t.startsWith("-")) {
                if (t.equals("-0")) {
                    out[i] = 0;
                    continue;
                }
                throw new InvalidInputException(where + ": \"" + key + "\" entry " + Json.printable(t)
                        + " is negative");
            }
            if (t.length() > 18) {
                throw new InvalidInputException(where + ": \"" + key + "\" entry " + Json.printable(t)
                        + " is too large");
            }
            out[i] = Long.parseLong(t);
        }
        return out;
    }

    private static void checkTiling(Path file, java.util.Collection<Entry> all, long bufferSize) {
        List<Entry> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.begin < covered) {
                throw new InvalidInputException(file + ": tensors '" + Json.printable(prev.name) + "' ["
                        + prev.begin + ", " + prev.end + "] and '" + Json.printable(e.name) + "' [" + e.begin
                        + ", " + e.end + "] overlap");
            }
            if (e.begin > covered) {
                throw new InvalidInputException(file + ": data bytes [" + covered + ", " + e.begin
                        + ") belong to no tensor (hole before '" + Json.printable(e.name) + "')");
            }
            if (e.end > covered || prev == null) {
                prev = e;
            }
            covered = Math.max(covered, e.end);
        }
        if (covered != bufferSize) {
            throw new InvalidInputException(file + ": data bytes [" + covered + ", " + bufferSize
                    + ") at the end belong to no tensor");
        }
    }

    // ------------------------------------------------------------------------------------------ access

    /**
     * The tensors.
     *
     * @return their names in header order
     */
    public Set<String> names() {
        return entries.keySet();
    }

    /**
     * The metadata.
     *
     * @return the {@code __metadata__} map (empty if absent)
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Whether the file has a tensor.
     *
     * @param name the tensor's name
     * @return whether it is there
     */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /**
     * A tensor's stored shape.
     *
     * @param name the tensor's name
     * @return its shape (a copy)
     */
    public long[] shape(String name) {
        return entry(name).shape.clone();
    }

    /**
     * A tensor's stored dtype.
     *
     * @param name the tensor's name
     * @return the safetensors dtype, e.g. {@code "F32"}
     */
    public String dtype(String name) {
        return entry(name).dtype;
    }

    /**
     * Tensor {@code name} as a new {@code want} tensor in the arena given to {@link #read}: shape [o, i]
     * becomes o×i, [n] becomes n×1. F32, F64, F16 and BF16 are converted; NaN/Inf is rejected.
     *
     * @param name the tensor's name
     * @param want the result's dtype
     * @return the new tensor
     * @throws IllegalStateException if the arena is closed
     */
    public Tensor tensor(String name, DType want) {
        Objects.requireNonNull(want, "want");
        Entry e = entry(name);
        String where = file + ": tensor '" + Json.printable(name) + "'";
        long rows;
        long cols;
        if (e.shape.length == 2) {
            rows = e.shape[0];
            cols = e.shape[1];
        } else if (e.shape.length == 1) {
            rows = e.shape[0];
            cols = 1;
        } else if (e.shape.length > 2) {
            // N-d (a convolution weight): its first axis by the rest, row-major as stored.
            rows = e.shape[0];
            long rest = 1;
            for (int i = 1; i < e.shape.length; i++) {
                rest = Math.multiplyExact(rest, e.shape[i]);
            }
            cols = rest;
        } else {
            throw new InvalidInputException(where + " has shape " + Arrays.toString(e.shape)
                    + "; a scalar cannot be loaded as a parameter");
        }
        if (rows > Integer.MAX_VALUE - 8 || cols > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(where + " shape " + Arrays.toString(e.shape) + " is too large");
        }
        switch (e.dtype) {
            case "F32", "F64", "F16", "BF16" -> {
            }
            default -> throw new InvalidInputException(where + " has dtype " + e.dtype
                    + "; only F32, F64, F16 and BF16 can be loaded");
        }
        Tensor t = Tensor.allocate(arena, want, (int) rows, (int) cols);
        MemorySegment src = buffer.asSlice(e.begin, e.end - e.begin);
        long n = t.size();
        if (e.dtype.equals("F32") && want == DType.F32) {
            MemorySegment.copy(src, LE_FLOAT, 0, t.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, n);
        } else if (e.dtype.equals("F64") && want == DType.F64) {
            MemorySegment.copy(src, LE_DOUBLE, 0, t.segment(), ValueLayout.JAVA_DOUBLE_UNALIGNED, 0, n);
        } else {
            for (long i = 0; i < n; i++) {
                double v = switch (e.dtype) {
                    case "F32" -> src.getAtIndex(LE_FLOAT, i);
                    case "F64" -> src.getAtIndex(LE_DOUBLE, i);
                    case "F16" -> Float.float16ToFloat(src.getAtIndex(LE_SHORT, i));
                    default -> Float.intBitsToFloat((src.getAtIndex(LE_SHORT, i) & 0xffff) << 16);
                };
                if (Double.isFinite(v) && want == DType.F32 && Float.isInfinite((float) v)) {
                    throw new InvalidInputException(where + ": value " + v + " at index " + i + " overflows f32");
                }
                t.set(i, v);
            }
        }
        long bad = t.firstNonFinite();
        if (bad >= 0) {
            double v = t.get(bad);
            throw new InvalidInputException(where + ": " + (Double.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf")
                    + " at index " + bad + " (first non-finite value)");
        }
        return t;
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            List<String> have = new ArrayList<>();
            for (String k : entries.keySet()) {
                if (have.size() == 10) {
                    have.add("...");
                    break;
                }
                have.add(Json.printable(k));
            }
            throw new InvalidInputException(file + ": no tensor named '" + (name == null ? "null"
                    : Json.printable(name)) + "' (has " + (have.isEmpty() ? "none" : String.join(", ", have)) + ")");
        }
        return e;
    }

    @Override
    public String toString() {
        return "SafeTensors[" + file + ", " + entries.size() + " tensors]";
    }

    // ------------------------------------------------------------------------------------------ writing

    /**
     * Writes tensors with their natural shapes ([rows, cols]) and no metadata.
     *
     * @param file    the file to write
     * @param tensors host tensors by name
     */
    public static void write(Path file, Map<String, Tensor> tensors) {
        write(file, tensors, Map.of(), Map.of());
    }

    /**
     * Writes tensors with the given stored shapes (see {@link #write(Path, Map, Map, Map)}) and no metadata.
     *
     * @param file    the file to write
     * @param tensors host tensors by name
     * @param shapes  stored shapes for some names
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, long[]> shapes) {
        write(file, tensors, shapes, Map.of());
    }

    /**
     * Writes tensors in iteration order (F32 or F64 per their dtype), atomically. {@code shapes} may give a
     * stored shape for some names (e.g. {@code [n]} for a vector, or [o, i] for any rows×cols with o·i
     * elements); the others are stored as [rows, cols]. The header is padded with spaces to a multiple of 8
     * bytes so the data of an all-F32/F64 file stays aligned.
     *
     * @param file     the file to write
     * @param tensors  host tensors by name
     * @param shapes   stored shapes for some names
     * @param metadata the {@code __metadata__} map
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, long[]> shapes,
                             Map<String, String> metadata) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(tensors, "tensors");
        Map<String, long[]> given = shapes == null ? Map.of() : shapes;
        Map<String, String> meta = metadata == null ? Map.of() : metadata;
        for (String k : given.keySet()) {
            if (!tensors.containsKey(k)) {
                throw new IllegalArgumentException("shape given for unknown tensor '" + k + "'");
            }
        }
        Map<String, Object> json = new LinkedHashMap<>();
        if (!meta.isEmpty()) {
            Map<String, String> m = new LinkedHashMap<>();
            meta.forEach((k, v) -> m.put(Objects.requireNonNull(k, "metadata key"),
                    Objects.requireNonNull(v, "metadata value")));
            json.put(METADATA, m);
        }
        long offset = 0;
        List<Tensor> order = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = Objects.requireNonNull(e.getKey(), "tensor name");
            Tensor t = Objects.requireNonNull(e.getValue(), "tensor");
            if (name.equals(METADATA)) {
                throw new IllegalArgumentException("'" + METADATA + "' cannot name a tensor");
            }
            long[] shape = given.containsKey(name) ? given.get(name).clone() : new long[] {t.rows(), t.cols()};
            long n = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape)
                            + " of '" + name + "'");
                }
                n = Math.multiplyExact(n, d);
            }
            if (n != t.size()) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of '" + name
                        + "' does not match the " + t.shapeString() + " tensor");
            }
            long bytes = t.segment().byteSize();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", t.dtype() == DType.F32 ? "F32" : "F64");
            entry.put("shape", shape);
            entry.put("data_offsets", new long[] {offset, offset + bytes});
            json.put(name, entry);
            offset += bytes;
            order.add(t);
        }
        byte[] header = Json.write(json).getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8;
        byte[] prefix = new byte[8 + padded];
        ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(header, 0, prefix, 8, header.length);
        Arrays.fill(prefix, 8 + header.length, prefix.length, (byte) ' ');
        IoSupport.atomicWrite(file, ch -> {
            IoSupport.writeFully(ch, prefix);
            for (Tensor t : order) {
                ValueLayout nat = t.dtype() == DType.F32 ? ValueLayout.JAVA_FLOAT_UNALIGNED
                        : ValueLayout.JAVA_DOUBLE_UNALIGNED;
                ValueLayout le = t.dtype() == DType.F32 ? LE_FLOAT : LE_DOUBLE;
                Npy.writeLittleEndian(ch, t.segment(), nat, le, t.size());
            }
        });
    }
}
