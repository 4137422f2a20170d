package io.hvp4j.io;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a data set from an inputs file and an optional targets file (the CLI's {@code --inputs}/{@code --targets}),
 * by file type:
 * <ul>
 *   <li>{@code .npy}: inputs N×d, or for a graph model {@code (N, ...)} in its per-sample input shape; targets N×K floats, or for ce int labels (N,) or N×K probability rows.</li>
 *   <li>{@code .csv} (see {@link Csv}): the same as columns; alone (no {@code --targets}) a CSV holds the d
 *       input columns followed by the targets: K columns, or for ce one integer label column or K
 *       probability columns.</li>
 *   <li>{@code .npz} alone: two arrays, inputs named {@code x}, {@code X} or {@code inputs} and targets named
 *       {@code y}, {@code Y}, {@code targets} or {@code labels} (or unnamed {@code arr_0}, {@code arr_1}).</li>
 *   <li>IDX (MNIST layout, e.g. {@code train-images-idx3-ubyte}, raw or {@code .gz}; known by its first bytes):
 *       inputs are unsigned-byte images divided by 255, flattened, or resized to √d×√d as
 *       {@link Idx#imageRows} does; targets an integer label file (ce only).</li>
 * </ul>
 * Large inputs are mapped or streamed rather than read (see {@link io.hvp4j.io.MappedFiles}).
 */
public final class DataFiles {
    private static final List<String> X_NAMES = List.of("x", "X", "inputs", "arr_0");
    private static final List<String> Y_NAMES = List.of("y", "Y", "targets", "labels", "arr_1");

    private DataFiles() {
    }

    /**
     * Whether a file can hold inputs and targets together.
     *
     * @param file a data file
     * @return whether it is a CSV or npz file
     */
    public static boolean selfContained(Path file) {
        Format f = format(file);
        return f == Format.CSV || f == Format.NPZ;
    }

    private static String name(Path file) {
        return file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
    }

    /**
     * Whether a file is read as IDX.
     *
     * @param file a data file
     * @return whether it is an IDX file (see {@link #format})
     */
    public static boolean idx(Path file) {
        return format(file) == Format.IDX;
    }

    /** The file formats read here. */
    enum Format { CSV, NPY, NPZ, IDX }

    /**
     * A file's format: by its extension {@code .csv}, {@code .npy} or {@code .npz}; otherwise by its first bytes
     * (IDX {@code 00 00 08..0e}, gzip {@code 1f 8b} (gzipped IDX), npy {@code 93 NUMPY}, npz {@code PK}); otherwise a name
     * with {@code idx} and a digit is IDX, anything else npy (whose reader then says what is wrong). A name such as
     * {@code val_idx1.npy} is npy.
     */
    static Format format(Path file) {
        String n = name(file);
        if (n.endsWith(".csv")) {
            return Format.CSV;
        }
        if (n.endsWith(".npy")) {
            return Format.NPY;
        }
        if (n.endsWith(".npz")) {
            return Format.NPZ;
        }
        byte[] head = new byte[3];
        // Only a regular file is sniffed: reading a pipe would block or eat its first bytes.
        try (var in = java.nio.file.Files.isRegularFile(file) ? java.nio.file.Files.newInputStream(file) : null) {
            if (in != null && in.readNBytes(head, 0, 3) == 3) {
                int b0 = head[0] & 0xff, b1 = head[1] & 0xff, b2 = head[2] & 0xff;
                if (b0 == 0 && b1 == 0 && b2 >= 0x08 && b2 <= 0x0E || b0 == 0x1f && b1 == 0x8b) {
                    return Format.IDX;
                }
                if (b0 == 0x93 && b1 == 'N') {
                    return Format.NPY;
                }
                if (b0 == 'P' && b1 == 'K') {
                    return Format.NPZ;
                }
            }
        } catch (java.io.IOException | RuntimeException unreadable) {
            // the reader chosen by name reports it
        }
        return n.matches(".*idx[0-9].*") ? Format.IDX : Format.NPY;
    }

    /**
     * What the data must fit.
     *
     * @param inputs  values per input row
     * @param outputs values per target row
     * @param what    the option or model that set them, for messages
     * @param sample  the per-sample input shape of inputs of rank 3 or more, or null for flat rows
     */
    public record Dims(int inputs, int outputs, String what, int[] sample) implements java.io.Serializable {
        /**
         * Flat rows only.
         *
         * @param inputs  values per input row
         * @param outputs values per target row
         * @param what    the option or model that set them, for messages
         */
        public Dims(int inputs, int outputs, String what) {
            this(inputs, outputs, what, null);
        }

        /**
         * An MLP's sizes.
         *
         * @param mlp the network
         * @return its inputs and outputs, named by {@code --arch}
         */
        public static Dims of(Mlp mlp) {
            return new Dims(mlp.inputs(), mlp.outputs(), "--arch " + mlp.architecture());
        }
    }

    /**
     * Inputs of rank 3 or more ({@code (N, C, H, W)}, {@code (N, T, d)}) are one flattened row per sample; their
     * trailing axes must be the model's per-sample input shape (a transposed layout such as NHWC is refused).
     */
    private static void requireSampleShape(long[] shape, Dims dims, String label) {
        if (shape.length <= 2) {
            return;
        }
        long[] tail = java.util.Arrays.copyOfRange(shape, 1, shape.length);
        long[] want = dims.sample() == null ? null : java.util.Arrays.stream(dims.sample()).asLongStream().toArray();
        if (!java.util.Arrays.equals(tail, want)) {
            throw new InvalidInputException(label + ": has shape " + java.util.Arrays.toString(shape) + " but "
                    + dims.what() + " takes samples of shape " + (want == null ? "(" + dims.inputs() + ",)"
                    : java.util.Arrays.toString(want)) + " (give (N, d) rows or (N, ...) in the model's layout)");
        }
    }

    /**
     * {@link #read(Path, Path, Dims, Loss, DType, Arena)} for the inputs and outputs of an MLP.
     *
     * @param inputs  the inputs file ({@code .npy}, {@code .csv}, {@code .npz} or IDX)
     * @param targets the targets file, or null when {@code inputs} holds both
     * @param mlp     the network the data must fit
     * @param loss    the loss (cross-entropy reads class labels into one-hot rows)
     * @param dtype   the data set's dtype
     * @param arena   owns the data (large inputs are mapped)
     * @return the data set
     */
    public static Dataset read(Path inputs, Path targets, Mlp mlp, Loss loss, DType dtype, Arena arena) {
        return read(inputs, targets, Dims.of(mlp), loss, dtype, arena);
    }

    /**
     * The data set in {@code inputs} (and {@code targets}, null when {@code inputs} holds both), checked against
     * {@code mlp}'s input and output counts, in {@code dtype}; memory from {@code arena} (large inputs are mapped).
     * Any mismatch is one {@link InvalidInputException} naming the file.
     *
     * @param inputs  the inputs file ({@code .npy}, {@code .csv}, {@code .npz} or IDX)
     * @param targets the targets file, or null when {@code inputs} holds both
     * @param mlp     what the data must fit
     * @param loss    the loss (cross-entropy reads class labels into one-hot rows)
     * @param dtype   the data set's dtype
     * @param arena   owns the data (large inputs are mapped)
     * @return the data set
     */
    public static Dataset read(Path inputs, Path targets, Dims mlp, Loss loss, DType dtype, Arena arena) {
        int d = mlp.inputs();
        Dataset.Rows x;
        Tensor y;
        Format inputFormat = format(inputs);
        if (targets == null && inputFormat == Format.CSV) {
            Csv.Columns t = Csv.read(inputs, Csv.Header.AUTO, cols -> {
                if (cols <= d) {
                    throw new InvalidInputException(inputs + ": has " + cols + " column(s); "
                            + mlp.what() + " needs " + d + " input column(s) followed by the target column(s)");
                }
                return d;
            }, arena, dtype);
            x = Dataset.Rows.of(t.left());
            y = csvTargets(t, inputs + " (targets: columns " + (d + 1) + ".." + t.cols() + ")", mlp, loss, dtype,
                    arena);
        } else if (targets == null && inputFormat == Format.IDX) {
            throw new InvalidInputException(inputs + ": an IDX image file needs --targets (an IDX label file)");
        } else if (targets == null && inputFormat != Format.NPZ) {
            throw new InvalidInputException(inputs + ": an npy file holds only the inputs; give --targets too (a"
                    + " .csv or .npz file can hold both)");
        } else if (targets == null) {
            try (Arena tmp = Arena.ofConfined()) {
                Map<String, NpyArray> a = Npz.read(inputs, tmp);
                String xn = pick(a, X_NAMES, inputs, "inputs");
                String yn = pick(a, Y_NAMES, inputs, "targets");
                if (a.size() != 2) {
                    throw new InvalidInputException(inputs + ": a data archive holds exactly two arrays (inputs and"
                            + " targets), this one has " + a.size() + " " + a.keySet());
                }
                NpyArray xa = a.get(xn);
                String xl = inputs + ": array '" + xn + "' (inputs)";
                requireSampleShape(xa.shape(), mlp, xl);
                if (xa.rank() > 2) {
                    xa = new NpyArray(xa.type(), new long[] {xa.shape()[0], xa.size() / Math.max(1, xa.shape()[0])},
                            xa.data());
                }
                x = Dataset.Rows.of(Npy.toMatrix(xa, arena, dtype, xl));
                String label = inputs + ": array '" + yn + "' (targets)";
                NpyArray ya = a.get(yn);
                y = loss == Loss.CE && ya.rank() == 1
                        ? oneHot(Npy.toLabels(ya, label), label, mlp, dtype, arena)
                        : checkTargets(Npy.toMatrix(ya, arena, dtype, label), label, mlp, loss);
            }
        } else {
            if (inputFormat == Format.IDX) {
                Idx.Header h = Idx.header(inputs);
                long side = Math.round(Math.sqrt(d));
                if (h.itemElements() != d && h.dims().length == 3 && side * side == d) {
                    // A user's file resized: a mistyped input size would otherwise change the data without a word.
                    org.slf4j.LoggerFactory.getLogger(DataFiles.class).warn("{}: {} x {} images resized to {} x {}"
                            + " (nearest neighbour) for {} inputs", inputs, h.dims()[1], h.dims()[2], side, side, d);
                }
                x = Idx.imageRows(inputs, h.items(), d, arena, dtype);
            } else {
                x = Dataset.Rows.of(inputRows(inputs, mlp, dtype, arena));
            }
            String label = targets + " (targets)";
            Format targetFormat = format(targets);
            if (targetFormat == Format.CSV) {
                y = csvTargets(Csv.read(targets, Csv.Header.AUTO, cols -> 0, arena, dtype), label, mlp, loss, dtype,
                        arena);
            } else if (targetFormat == Format.IDX) {
                if (loss != Loss.CE) {
                    throw new InvalidInputException(label + ": IDX targets are class labels, which need --loss ce");
                }
                y = oneHot(Idx.readLabels(targets, Integer.MAX_VALUE), targets + " (labels)", mlp, dtype, arena);
            } else if (loss == Loss.CE && npyRank(targets) == 1) {
                y = oneHot(Npy.readLabels(targets), targets + " (labels)", mlp, dtype, arena);
            } else {
                y = checkTargets(Npy.readMatrix(targets, arena, dtype, "targets"), label, mlp, loss);
            }
        }
        if (x.cols() != d) {
            throw new InvalidInputException(inputs + " (inputs): has " + x.cols() + " column(s) but "
                    + mlp.what() + " has " + d + " inputs");
        }
        if (x.rows() != y.rows()) {
            throw new InvalidInputException(inputs + " has " + x.rows() + " rows of inputs but "
                    + (targets == null ? "" : targets + " has ") + y.rows() + " rows of targets");
        }
        return new Dataset(x, y, inputs.toString());
    }

    private static String pick(Map<String, NpyArray> a, List<String> names, Path file, String what) {
        for (String n : names) {
            if (a.containsKey(n)) {
                return n;
            }
        }
        throw new InvalidInputException(file + ": no " + what + " array (named one of " + names + "); it has "
                + a.keySet());
    }

    private static Tensor inputRows(Path file, Dims dims, DType dtype, Arena arena) {
        if (format(file) == Format.CSV) {
            return Csv.read(file, Csv.Header.AUTO, cols -> cols, arena, dtype).left();
        }
        requireSampleShape(Npy.shape(file), dims, file + " (inputs)");
        return Npy.readRows(file, arena, dtype, "inputs");
    }

    /** The columns after the split of a CSV file as targets: for ce one label column or K probability columns. */
    private static Tensor csvTargets(Csv.Columns t, String label, Dims mlp, Loss loss, DType dtype, Arena arena) {
        if (loss == Loss.CE && t.right().cols() == 1) {
            return oneHot(t.labels(), label, mlp, dtype, arena);
        }
        return checkTargets(t.right(), label, mlp, loss);
    }

    private static Tensor checkTargets(Tensor y, String label, Dims mlp, Loss loss) {
        int k = mlp.outputs();
        if (y.cols() != k) {
            throw new InvalidInputException(label + ": has " + y.cols() + " column(s) but "
                    + mlp.what() + " has " + k + " outputs"
                    + (loss == Loss.CE ? " (for ce give labels (N,) or N×K probability rows)" : ""));
        }
        return y;
    }

    private static Tensor oneHot(int[] labels, String label, Dims mlp, DType dtype, Arena arena) {
        int k = mlp.outputs();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= k) {
                throw new InvalidInputException(label + ": label " + labels[i] + " at index " + i
                        + " is not below the " + k + " outputs of " + mlp.what());
            }
        }
        return Dataset.oneHot(arena, dtype, labels, k);
    }

    /** Rank of an npy file (reads it into a scratch arena; target files are small). */
    private static int npyRank(Path file) {
        try (Arena tmp = Arena.ofConfined()) {
            return Npy.read(file, tmp).rank();
        }
    }
}
