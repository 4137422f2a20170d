package io.hvp4j.graph.ops;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.Shape;

/**
 * NumPy/ONNX broadcasting over the per-sample shape, as index maps: for each element of the output (one sample,
 * row-major) the element of an operand it reads. Shapes are right-aligned; a pair of dimensions must be equal or
 * one of them 1. An unbatched operand (parameter, constant) is also broadcast over the batch; leading axes of size
 * 1 beyond the per-sample rank (ONNX's view that includes the batch axis, e.g. {@code (1, C, 1, 1)}) are dropped.
 */
final class Broadcast {
    private Broadcast() {
    }

    /** The per-sample output shape of broadcasting {@code in} ({@code what} names the op in errors). */
    static Shape shape(String what, Shape[] in, boolean[] batched) {
        int rank = 0;
        boolean any = false;
        for (int i = 0; i < in.length; i++) {
            if (batched[i]) {
                rank = Math.max(rank, in[i].rank());
                any = true;
            }
        }
        if (!any) {
            throw new InvalidInputException(what + " needs at least one batched input");
        }
        int[][] dims = new int[in.length][];
        for (int i = 0; i < in.length; i++) {
            dims[i] = strip(what, in[i], batched[i], rank);
            rank = Math.max(rank, dims[i].length);
        }
        int[] out = new int[rank];
        java.util.Arrays.fill(out, 1);
        for (int i = 0; i < in.length; i++) {
            int[] d = dims[i];
            for (int a = 0; a < d.length; a++) {
                int o = rank - d.length + a;
                if (d[a] != out[o] && d[a] != 1 && out[o] != 1) {
                    throw new InvalidInputException(what + ": shapes " + describe(in, batched)
                            + " do not broadcast (axis " + o + ": " + out[o] + " vs " + d[a] + ")");
                }
                out[o] = Math.max(out[o], d[a]);
            }
        }
        return Shape.of(out);
    }

    private static int[] strip(String what, Shape s, boolean batched, int rank) {
        int[] d = s.dims();
        if (batched || d.length <= rank) {
            return d;
        }
        int extra = d.length - rank;
        for (int a = 0; a < extra; a++) {
            if (d[a] != 1) {
                throw new InvalidInputException(what + ": the unbatched operand " + s
                        + " has more axes than the samples (" + rank + ") and a leading axis that is not 1");
            }
        }
        return java.util.Arrays.copyOfRange(d, extra, d.length);
    }

    private static String describe(Shape[] in, boolean[] batched) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < in.length; i++) {
            b.append(i == 0 ? "" : " and ").append(in[i]).append(batched[i] ? "" : " (unbatched)");
        }
        return b.toString();
    }

    /**
     * For each element of {@code out}, the index of the element of {@code operand} it reads ({@code operand}
     * broadcasts to {@code out} after dropping leading axes of size 1).
     */
    static int[] map(Shape operand, Shape out) {
        int[] od = out.dims();
        int[] d = operand.dims();
        int drop = Math.max(0, d.length - od.length);
        int rank = od.length;
        int[] stride = new int[rank];
        int s = 1;
        for (int a = d.length - 1; a >= drop; a--) {
            int o = rank - (d.length - a);
            stride[o] = d[a] == 1 ? 0 : s;
            s *= d[a];
        }
        int n = out.intSize();
        int[] map = new int[n];
        int[] idx = new int[rank];
        int at = 0;
        for (int e = 0; e < n; e++) {
            map[e] = at;
            for (int a = rank - 1; a >= 0; a--) {
                idx[a]++;
                at += stride[a];
                if (idx[a] < od[a]) {
                    break;
                }
                at -= stride[a] * od[a];
                idx[a] = 0;
            }
        }
        return map;
    }
}
