package io.hvp4j.backend.vector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Transposes from memory segments into heap arrays by square blocks held in 512-bit registers: 16 x 16 floats, 8 x
 * 8 doubles. Stage s of the butterfly swaps bit s of the row index with bit s of the lane index, for all row pairs
 * that differ in that bit, by two two-vector lane selections ({@code selectFrom(v1, v2)}); after log2(L) stages
 * every element (i, j) sits at (j, i). About 0.25 selections per element against a load and a store per element for
 * a scalar transpose (measured, f32 tiles of 64 x 16 and 16 x 256 on Zen 5: 0.12-0.16 against 0.84-0.94 ns per
 * element). Used by the GEMM's packing of transposed B and by the backend's layout conversions; with narrower
 * vectors ({@link #F32_FAST} false) the whole-matrix methods go element by element and the GEMM keeps its scalar
 * interleave. Stateless and thread-safe.
 */
final class Transposes {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(LE);
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_512;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_512;
    /** Whether the preferred vectors are at least 512 bits wide, so that the blocks below compile to register code. */
    static final boolean F32_FAST = FloatVector.SPECIES_PREFERRED.length() >= 16;
    static final boolean F64_FAST = DoubleVector.SPECIES_PREFERRED.length() >= 8;
    /** Block sides. */
    static final int F32_SIDE = 16;
    static final int F64_SIDE = 8;
    /** Rows 2s and 2s+1: the two-vector indices of stage s (x' and y' of each row pair). */
    private static final float[] IDX_F = floats(butterflyIndex(F32_SIDE));
    private static final double[] IDX_D = doubles(butterflyIndex(F64_SIDE));

    private Transposes() {
    }

    /** Stage s (bit b = 2^s): x' takes x's lanes with bit s clear and y's lanes j^b elsewhere; y' the mirror. */
    private static int[] butterflyIndex(int lanes) {
        int stages = Integer.numberOfTrailingZeros(lanes);
        int[] idx = new int[2 * stages * lanes];
        for (int st = 0; st < stages; st++) {
            int b = 1 << st;
            for (int j = 0; j < lanes; j++) {
                boolean low = (j & b) == 0;
                idx[2 * st * lanes + j] = low ? j : lanes + (j ^ b);
                idx[(2 * st + 1) * lanes + j] = low ? (j ^ b) : lanes + j;
            }
        }
        return idx;
    }

    static float[] floats(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }

    static double[] doubles(int[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /**
     * {@code y[b*rows + a] = x(a, b)} for a < rows, b < cols, where x(a, b) is the element at byte
     * {@code xo + a*xs + b*Float.BYTES} of x: y (cols x rows, row-major) is the transpose of a strided rows x cols
     * matrix. Whole 16 x 16 blocks in registers when {@link #F32_FAST}, the rest element by element.
     */
    static void f32(MemorySegment x, long xo, long xs, int rows, int cols, float[] y) {
        int fa = F32_FAST ? rows / 16 * 16 : 0, fb = F32_FAST ? cols / 16 * 16 : 0;
        for (int a = 0; a < fa; a += 16) {
            for (int b = 0; b < fb; b += 16) {
                f32(x, xo + a * xs + (long) b * Float.BYTES, xs, y, b * rows + a, rows);
            }
        }
        for (int a = 0; a < rows; a++) {
            for (int b = a < fa ? fb : 0; b < cols; b++) {
                y[b * rows + a] = x.get(F32, xo + a * xs + (long) b * Float.BYTES);
            }
        }
    }

    /**
     * {@code y[b*rows + a] = x(a, b)} for a < rows, b < cols, where x(a, b) is the element at byte
     * {@code xo + a*xs + b*Double.BYTES} of x: y (cols x rows, row-major) is the transpose of a strided rows x cols
     * matrix. Whole 8 x 8 blocks in registers when {@link #F64_FAST}, the rest element by element.
     */
    static void f64(MemorySegment x, long xo, long xs, int rows, int cols, double[] y) {
        int fa = F64_FAST ? rows / 8 * 8 : 0, fb = F64_FAST ? cols / 8 * 8 : 0;
        for (int a = 0; a < fa; a += 8) {
            for (int b = 0; b < fb; b += 8) {
                f64(x, xo + a * xs + (long) b * Double.BYTES, xs, y, b * rows + a, rows);
            }
        }
        for (int a = 0; a < rows; a++) {
            for (int b = a < fa ? fb : 0; b < cols; b++) {
                y[b * rows + a] = x.get(F64, xo + a * xs + (long) b * Double.BYTES);
            }
        }
    }

    /**
     * One 16 x 16 block: {@code y[yo + j*ys + i]} = the element at byte {@code xo + i*xs + j*Float.BYTES} of x, for
     * i, j < 16 (little-endian). The 16 rows are loaded as vectors and transposed in registers by 4 butterfly
     * stages of two-vector lane selections.
     */
    static void f32(MemorySegment x, long xo, long xs, float[] y, int yo, int ys) {
        FloatVector s0a = FloatVector.fromArray(FS, IDX_F, 0);
        FloatVector s0b = FloatVector.fromArray(FS, IDX_F, 16);
        FloatVector s1a = FloatVector.fromArray(FS, IDX_F, 32);
        FloatVector s1b = FloatVector.fromArray(FS, IDX_F, 48);
        FloatVector s2a = FloatVector.fromArray(FS, IDX_F, 64);
        FloatVector s2b = FloatVector.fromArray(FS, IDX_F, 80);
        FloatVector s3a = FloatVector.fromArray(FS, IDX_F, 96);
        FloatVector s3b = FloatVector.fromArray(FS, IDX_F, 112);
        FloatVector v0 = FloatVector.fromMemorySegment(FS, x, xo, LE);
        FloatVector v1 = FloatVector.fromMemorySegment(FS, x, xo + 1 * xs, LE);
        FloatVector v2 = FloatVector.fromMemorySegment(FS, x, xo + 2 * xs, LE);
        FloatVector v3 = FloatVector.fromMemorySegment(FS, x, xo + 3 * xs, LE);
        FloatVector v4 = FloatVector.fromMemorySegment(FS, x, xo + 4 * xs, LE);
        FloatVector v5 = FloatVector.fromMemorySegment(FS, x, xo + 5 * xs, LE);
        FloatVector v6 = FloatVector.fromMemorySegment(FS, x, xo + 6 * xs, LE);
        FloatVector v7 = FloatVector.fromMemorySegment(FS, x, xo + 7 * xs, LE);
        FloatVector v8 = FloatVector.fromMemorySegment(FS, x, xo + 8 * xs, LE);
        FloatVector v9 = FloatVector.fromMemorySegment(FS, x, xo + 9 * xs, LE);
        FloatVector v10 = FloatVector.fromMemorySegment(FS, x, xo + 10 * xs, LE);
        FloatVector v11 = FloatVector.fromMemorySegment(FS, x, xo + 11 * xs, LE);
        FloatVector v12 = FloatVector.fromMemorySegment(FS, x, xo + 12 * xs, LE);
        FloatVector v13 = FloatVector.fromMemorySegment(FS, x, xo + 13 * xs, LE);
        FloatVector v14 = FloatVector.fromMemorySegment(FS, x, xo + 14 * xs, LE);
        FloatVector v15 = FloatVector.fromMemorySegment(FS, x, xo + 15 * xs, LE);
        FloatVector t;
        t = v0;
        v0 = s0a.selectFrom(t, v1);
        v1 = s0b.selectFrom(t, v1);
        t = v2;
        v2 = s0a.selectFrom(t, v3);
        v3 = s0b.selectFrom(t, v3);
        t = v4;
        v4 = s0a.selectFrom(t, v5);
        v5 = s0b.selectFrom(t, v5);
        t = v6;
        v6 = s0a.selectFrom(t, v7);
        v7 = s0b.selectFrom(t, v7);
        t = v8;
        v8 = s0a.selectFrom(t, v9);
        v9 = s0b.selectFrom(t, v9);
        t = v10;
        v10 = s0a.selectFrom(t, v11);
        v11 = s0b.selectFrom(t, v11);
        t = v12;
        v12 = s0a.selectFrom(t, v13);
        v13 = s0b.selectFrom(t, v13);
        t = v14;
        v14 = s0a.selectFrom(t, v15);
        v15 = s0b.selectFrom(t, v15);
        t = v0;
        v0 = s1a.selectFrom(t, v2);
        v2 = s1b.selectFrom(t, v2);
        t = v1;
        v1 = s1a.selectFrom(t, v3);
        v3 = s1b.selectFrom(t, v3);
        t = v4;
        v4 = s1a.selectFrom(t, v6);
        v6 = s1b.selectFrom(t, v6);
        t = v5;
        v5 = s1a.selectFrom(t, v7);
        v7 = s1b.selectFrom(t, v7);
        t = v8;
        v8 = s1a.selectFrom(t, v10);
        v10 = s1b.selectFrom(t, v10);
        t = v9;
        v9 = s1a.selectFrom(t, v11);
        v11 = s1b.selectFrom(t, v11);
        t = v12;
        v12 = s1a.selectFrom(t, v14);
        v14 = s1b.selectFrom(t, v14);
        t = v13;
        v13 = s1a.selectFrom(t, v15);
        v15 = s1b.selectFrom(t, v15);
        t = v0;
        v0 = s2a.selectFrom(t, v4);
        v4 = s2b.selectFrom(t, v4);
        t = v1;
        v1 = s2a.selectFrom(t, v5);
        v5 = s2b.selectFrom(t, v5);
        t = v2;
        v2 = s2a.selectFrom(t, v6);
        v6 = s2b.selectFrom(t, v6);
        t = v3;
        v3 = s2a.selectFrom(t, v7);
        v7 = s2b.selectFrom(t, v7);
        t = v8;
        v8 = s2a.selectFrom(t, v12);
        v12 = s2b.selectFrom(t, v12);
        t = v9;
        v9 = s2a.selectFrom(t, v13);
        v13 = s2b.selectFrom(t, v13);
        t = v10;
        v10 = s2a.selectFrom(t, v14);
        v14 = s2b.selectFrom(t, v14);
        t = v11;
        v11 = s2a.selectFrom(t, v15);
        v15 = s2b.selectFrom(t, v15);
        t = v0;
        v0 = s3a.selectFrom(t, v8);
        v8 = s3b.selectFrom(t, v8);
        t = v1;
        v1 = s3a.selectFrom(t, v9);
        v9 = s3b.selectFrom(t, v9);
        t = v2;
        v2 = s3a.selectFrom(t, v10);
        v10 = s3b.selectFrom(t, v10);
        t = v3;
        v3 = s3a.selectFrom(t, v11);
        v11 = s3b.selectFrom(t, v11);
        t = v4;
        v4 = s3a.selectFrom(t, v12);
        v12 = s3b.selectFrom(t, v12);
        t = v5;
        v5 = s3a.selectFrom(t, v13);
        v13 = s3b.selectFrom(t, v13);
        t = v6;
        v6 = s3a.selectFrom(t, v14);
        v14 = s3b.selectFrom(t, v14);
        t = v7;
        v7 = s3a.selectFrom(t, v15);
        v15 = s3b.selectFrom(t, v15);
        v0.intoArray(y, yo);
        v1.intoArray(y, yo + 1 * ys);
        v2.intoArray(y, yo + 2 * ys);
        v3.intoArray(y, yo + 3 * ys);
        v4.intoArray(y, yo + 4 * ys);
        v5.intoArray(y, yo + 5 * ys);
        v6.intoArray(y, yo + 6 * ys);
        v7.intoArray(y, yo + 7 * ys);
        v8.intoArray(y, yo + 8 * ys);
        v9.intoArray(y, yo + 9 * ys);
        v10.intoArray(y, yo + 10 * ys);
        v11.intoArray(y, yo + 11 * ys);
        v12.intoArray(y, yo + 12 * ys);
        v13.intoArray(y, yo + 13 * ys);
        v14.intoArray(y, yo + 14 * ys);
        v15.intoArray(y, yo + 15 * ys);
    }

    /**
     * One 8 x 8 block: {@code y[yo + j*ys + i]} = the element at byte {@code xo + i*xs + j*Double.BYTES} of x, for
     * i, j < 8 (little-endian). The 8 rows are loaded as vectors and transposed in registers by 3 butterfly
     * stages of two-vector lane selections.
     */
    static void f64(MemorySegment x, long xo, long xs, double[] y, int yo, int ys) {
        DoubleVector s0a = DoubleVector.fromArray(DS, IDX_D, 0);
        DoubleVector s0b = DoubleVector.fromArray(DS, IDX_D, 8);
        DoubleVector s1a = DoubleVector.fromArray(DS, IDX_D, 16);
        DoubleVector s1b = DoubleVector.fromArray(DS, IDX_D, 24);
        DoubleVector s2a = DoubleVector.fromArray(DS, IDX_D, 32);
        DoubleVector s2b = DoubleVector.fromArray(DS, IDX_D, 40);
        DoubleVector v0 = DoubleVector.fromMemorySegment(DS, x, xo, LE);
        DoubleVector v1 = DoubleVector.fromMemorySegment(DS, x, xo + 1 * xs, LE);
        DoubleVector v2 = DoubleVector.fromMemorySegment(DS, x, xo + 2 * xs, LE);
        DoubleVector v3 = DoubleVector.fromMemorySegment(DS, x, xo + 3 * xs, LE);
        DoubleVector v4 = DoubleVector.fromMemorySegment(DS, x, xo + 4 * xs, LE);
        DoubleVector v5 = DoubleVector.fromMemorySegment(DS, x, xo + 5 * xs, LE);
        DoubleVector v6 = DoubleVector.fromMemorySegment(DS, x, xo + 6 * xs, LE);
        DoubleVector v7 = DoubleVector.fromMemorySegment(DS, x, xo + 7 * xs, LE);
        DoubleVector t;
        t = v0;
        v0 = s0a.selectFrom(t, v1);
        v1 = s0b.selectFrom(t, v1);
        t = v2;
        v2 = s0a.selectFrom(t, v3);
        v3 = s0b.selectFrom(t, v3);
        t = v4;
        v4 = s0a.selectFrom(t, v5);
        v5 = s0b.selectFrom(t, v5);
        t = v6;
        v6 = s0a.selectFrom(t, v7);
        v7 = s0b.selectFrom(t, v7);
        t = v0;
        v0 = s1a.selectFrom(t, v2);
        v2 = s1b.selectFrom(t, v2);
        t = v1;
        v1 = s1a.selectFrom(t, v3);
        v3 = s1b.selectFrom(t, v3);
        t = v4;
        v4 = s1a.selectFrom(t, v6);
        v6 = s1b.selectFrom(t, v6);
        t = v5;
        v5 = s1a.selectFrom(t, v7);
        v7 = s1b.selectFrom(t, v7);
        t = v0;
        v0 = s2a.selectFrom(t, v4);
        v4 = s2b.selectFrom(t, v4);
        t = v1;
        v1 = s2a.selectFrom(t, v5);
        v5 = s2b.selectFrom(t, v5);
        t = v2;
        v2 = s2a.selectFrom(t, v6);
        v6 = s2b.selectFrom(t, v6);
        t = v3;
        v3 = s2a.selectFrom(t, v7);
        v7 = s2b.selectFrom(t, v7);
        v0.intoArray(y, yo);
        v1.intoArray(y, yo + 1 * ys);
        v2.intoArray(y, yo + 2 * ys);
        v3.intoArray(y, yo + 3 * ys);
        v4.intoArray(y, yo + 4 * ys);
        v5.intoArray(y, yo + 5 * ys);
        v6.intoArray(y, yo + 6 * ys);
        v7.intoArray(y, yo + 7 * ys);
    }
}
