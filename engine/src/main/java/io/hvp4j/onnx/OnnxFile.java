package io.hvp4j.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.hvp4j.InvalidInputException;
import io.hvp4j.onnx.proto.OnnxProto.ModelProto;
import io.hvp4j.onnx.proto.OnnxProto.OperatorSetIdProto;
import io.hvp4j.onnx.proto.OnnxProto.StringStringEntryProto;
import io.hvp4j.onnx.proto.OnnxProto.TensorProto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reading an ONNX file: the protobuf message (classes that protoc generates from {@code src/main/proto/onnx.proto}),
 * the opset check, and tensor data (inline, in the typed fields, or in external data files beside the model).
 * Every problem with the file is an {@link InvalidInputException} naming the file and what is wrong.
 */
final class OnnxFile {
    /** The default-domain opsets the importer supports (the TorchScript exporter of torch 1.13 writes 13–17). */
    static final int MIN_OPSET = 13, MAX_OPSET = 18;

    private OnnxFile() {
    }

    /** Parses {@code file} as an ONNX {@code ModelProto} and checks that it has a graph and a supported opset. */
    static ModelProto read(Path file) {
        ModelProto m;
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream cis = CodedInputStream.newInstance(in);
            cis.setSizeLimit(Integer.MAX_VALUE);
            m = ModelProto.parseFrom(cis);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file");
        } catch (InvalidProtocolBufferException e) {
            throw new InvalidInputException(file + ": not a valid ONNX model (malformed or truncated protobuf: "
                    + oneLine(e.getMessage()) + ")");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + oneLine(e.getMessage()));
        }
        if (!m.hasGraph() || m.getGraph().getNodeCount() == 0) {
            throw new InvalidInputException(file + ": not an ONNX model (no graph with nodes; truncated or another"
                    + " kind of protobuf file?)");
        }
        opset(file, m);
        return m;
    }

    /** The default-domain opset of {@code m}, checked to be within {@link #MIN_OPSET}–{@link #MAX_OPSET}. */
    static int opset(Path file, ModelProto m) {
        long v = -1;
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                v = o.getVersion();
            }
        }
        if (v < 0) {
            throw new InvalidInputException(file + ": the model imports no default ONNX opset");
        }
        if (v < MIN_OPSET || v > MAX_OPSET) {
            throw new InvalidInputException(file + ": opset " + v + " is not supported (hvp4j reads opsets "
                    + MIN_OPSET + "-" + MAX_OPSET + "; export with opset_version=17)");
        }
        return (int) v;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("[\\p{Cntrl}]+", " ").strip();
    }

    /** Printable form of a name from the file (control characters replaced), for messages. */
    static String printable(String s) {
        String p = s.replaceAll("\\p{Cntrl}", "?");
        return p.length() > 200 ? p.substring(0, 200) + "..." : p;
    }

    /** Whether ONNX data type {@code t} is a floating-point type hvp4j reads. */
    static boolean floating(int t) {
        return t == TensorProto.DataType.FLOAT_VALUE || t == TensorProto.DataType.DOUBLE_VALUE
                || t == TensorProto.DataType.FLOAT16_VALUE || t == TensorProto.DataType.BFLOAT16_VALUE;
    }

    private static int elementBytes(int t) {
        return switch (t) {
            case TensorProto.DataType.FLOAT_VALUE, TensorProto.DataType.INT32_VALUE,
                 TensorProto.DataType.UINT32_VALUE -> 4;
            case TensorProto.DataType.DOUBLE_VALUE, TensorProto.DataType.INT64_VALUE,
                 TensorProto.DataType.UINT64_VALUE -> 8;
            case TensorProto.DataType.FLOAT16_VALUE, TensorProto.DataType.BFLOAT16_VALUE,
                 TensorProto.DataType.INT16_VALUE, TensorProto.DataType.UINT16_VALUE -> 2;
            case TensorProto.DataType.INT8_VALUE, TensorProto.DataType.UINT8_VALUE,
                 TensorProto.DataType.BOOL_VALUE -> 1;
            default -> -1;
        };
    }

    /**
     * The values of tensor {@code t} ({@code what} names it in messages); external data is read relative to
     * {@code dir}, the model's folder.
     */
    static Const tensor(TensorProto t, String what, Path dir) {
        int type = t.getDataType();
        int bytes = elementBytes(type);
        if (bytes < 0) {
            throw new InvalidInputException(what + ": data type " + type + " ("
                    + (TensorProto.DataType.forNumber(type) == null ? "unknown"
                    : TensorProto.DataType.forNumber(type).name()) + ") is not supported");
        }
        long[] dims = new long[t.getDimsCount()];
        for (int k = 0; k < dims.length; k++) {
            dims[k] = t.getDims(k);
        }
        int n = Const.count(dims, what);
        boolean fl = floating(type);
        double[] f = fl ? new double[n] : null;
        long[] l = fl ? null : new long[n];
        ByteBuffer raw = null;
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            raw = external(t, what, dir, (long) n * bytes);
        } else if (t.hasRawData()) {
            ByteString r = t.getRawData();
            if (r.size() != (long) n * bytes) {
                throw new InvalidInputException(what + ": raw data has " + r.size() + " bytes, the shape "
                        + java.util.Arrays.toString(dims) + " needs " + (long) n * bytes);
            }
            raw = r.asReadOnlyByteBuffer();
        }
        if (raw != null) {
            raw.order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < n; k++) {
                int at = k * bytes;
                switch (type) {
                    case TensorProto.DataType.FLOAT_VALUE -> f[k] = raw.getFloat(at);
                    case TensorProto.DataType.DOUBLE_VALUE -> f[k] = raw.getDouble(at);
                    case TensorProto.DataType.FLOAT16_VALUE -> f[k] = Float.float16ToFloat(raw.getShort(at));
                    case TensorProto.DataType.BFLOAT16_VALUE -> f[k] = Float.intBitsToFloat(raw.getShort(at) << 16);
                    case TensorProto.DataType.INT64_VALUE, TensorProto.DataType.UINT64_VALUE -> l[k] = raw.getLong(at);
                    case TensorProto.DataType.INT32_VALUE -> l[k] = raw.getInt(at);
                    case TensorProto.DataType.UINT32_VALUE -> l[k] = raw.getInt(at) & 0xffffffffL;
                    case TensorProto.DataType.INT16_VALUE -> l[k] = raw.getShort(at);
                    case TensorProto.DataType.UINT16_VALUE -> l[k] = raw.getShort(at) & 0xffff;
                    case TensorProto.DataType.INT8_VALUE -> l[k] = raw.get(at);
                    default -> l[k] = raw.get(at) & 0xff; // UINT8, BOOL
                }
            }
        } else {
            int have = switch (type) {
                case TensorProto.DataType.FLOAT_VALUE -> t.getFloatDataCount();
                case TensorProto.DataType.DOUBLE_VALUE -> t.getDoubleDataCount();
                case TensorProto.DataType.INT64_VALUE -> t.getInt64DataCount();
                case TensorProto.DataType.UINT32_VALUE, TensorProto.DataType.UINT64_VALUE -> t.getUint64DataCount();
                default -> t.getInt32DataCount();
            };
            if (have != n) {
                throw new InvalidInputException(what + ": " + have + " values for shape "
                        + java.util.Arrays.toString(dims) + " (" + n + " needed)");
            }
            for (int k = 0; k < n; k++) {
                switch (type) {
                    case TensorProto.DataType.FLOAT_VALUE -> f[k] = t.getFloatData(k);
                    case TensorProto.DataType.DOUBLE_VALUE -> f[k] = t.getDoubleData(k);
                    case TensorProto.DataType.FLOAT16_VALUE -> f[k] = Float.float16ToFloat((short) t.getInt32Data(k));
                    case TensorProto.DataType.BFLOAT16_VALUE -> f[k] = Float.intBitsToFloat(t.getInt32Data(k) << 16);
                    case TensorProto.DataType.INT64_VALUE -> l[k] = t.getInt64Data(k);
                    case TensorProto.DataType.UINT32_VALUE, TensorProto.DataType.UINT64_VALUE ->
                            l[k] = t.getUint64Data(k);
                    default -> l[k] = t.getInt32Data(k);
                }
            }
        }
        return fl ? Const.ofDoubles(dims, f) : Const.ofLongs(dims, l);
    }

    /** Reads external tensor data ({@code location}, {@code offset}, {@code length} keys) from beside the model. */
    private static ByteBuffer external(TensorProto t, String what, Path dir, long need) {
        String location = null;
        long offset = 0, length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            try {
                switch (e.getKey()) {
                    case "location" -> location = e.getValue();
                    case "offset" -> offset = Long.parseLong(e.getValue());
                    case "length" -> length = Long.parseLong(e.getValue());
                    default -> {
                    }
                }
            } catch (NumberFormatException x) {
                throw new InvalidInputException(what + ": external data " + e.getKey() + " '"
                        + printable(e.getValue()) + "' is not a number");
            }
        }
        if (location == null || location.isEmpty()) {
            throw new InvalidInputException(what + ": external data without a location");
        }
        Path base = dir.toAbsolutePath().normalize();
        Path p;
        try {
            p = base.resolve(location).normalize();
        } catch (java.nio.file.InvalidPathException x) {
            throw new InvalidInputException(what + ": external data location '" + printable(location)
                    + "' is not a valid path");
        }
        if (!p.startsWith(base) || Path.of(location).isAbsolute()) {
            throw new InvalidInputException(what + ": external data location '" + printable(location)
                    + "' is outside the model's folder");
        }
        if (!Files.isRegularFile(p)) {
            throw new InvalidInputException(what + ": external data file '" + printable(location)
                    + "' is missing (expected beside the model, at " + p + ")");
        }
        if (length >= 0 && length != need) {
            throw new InvalidInputException(what + ": external data length " + length + " does not match the "
                    + need + " bytes of its shape");
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            if (offset < 0 || offset > ch.size() || ch.size() - offset < need) {
                throw new InvalidInputException(what + ": external data file '" + printable(location) + "' ("
                        + ch.size() + " bytes) is too short for " + need + " bytes at offset " + offset);
            }
            ByteBuffer b = ByteBuffer.allocate((int) need);
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) {
                    throw new InvalidInputException(what + ": external data file '" + printable(location)
                            + "' ended early");
                }
            }
            return b.flip();
        } catch (IOException e) {
            throw new InvalidInputException(what + ": cannot read external data '" + printable(location) + "': "
                    + oneLine(e.getMessage()));
        }
    }
}
