package io.hvp4j.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The register-block transposes against the definition, element for element (they only move data). */
class TransposesTest {
    private static final int[] SIZES = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 100};

    /** A rows x cols matrix stored with a row stride of cols + pad elements, after an offset of 3 elements. */
    @Test
    void f32MatchesTheDefinition() {
        SplittableRandom rnd = new SplittableRandom(11);
        try (Arena arena = Arena.ofConfined()) {
            for (int rows : SIZES) {
                for (int cols : SIZES) {
                    for (int pad : new int[] {0, 5}) {
                        int ld = cols + pad;
                        MemorySegment x = arena.allocate((3L + (long) rows * ld) * Float.BYTES);
                        for (long i = 0; i < x.byteSize() / Float.BYTES; i++) {
                            x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
                        }
                        float[] y = new float[rows * cols];
                        Transposes.f32(x, 3L * Float.BYTES, (long) ld * Float.BYTES, rows, cols, y);
                        for (int a = 0; a < rows; a++) {
                            for (int b = 0; b < cols; b++) {
                                assertEquals(x.getAtIndex(ValueLayout.JAVA_FLOAT, 3L + (long) a * ld + b),
                                        y[b * rows + a], 0, rows + "x" + cols + "+" + pad + " at " + a + "," + b);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void f64MatchesTheDefinition() {
        SplittableRandom rnd = new SplittableRandom(12);
        try (Arena arena = Arena.ofConfined()) {
            for (int rows : SIZES) {
                for (int cols : SIZES) {
                    for (int pad : new int[] {0, 3}) {
                        int ld = cols + pad;
                        MemorySegment x = arena.allocate((2L + (long) rows * ld) * Double.BYTES);
                        for (long i = 0; i < x.byteSize() / Double.BYTES; i++) {
                            x.setAtIndex(ValueLayout.JAVA_DOUBLE, i, rnd.nextGaussian());
                        }
                        double[] y = new double[rows * cols];
                        Transposes.f64(x, 2L * Double.BYTES, (long) ld * Double.BYTES, rows, cols, y);
                        for (int a = 0; a < rows; a++) {
                            for (int b = 0; b < cols; b++) {
                                assertEquals(x.getAtIndex(ValueLayout.JAVA_DOUBLE, 2L + (long) a * ld + b),
                                        y[b * rows + a], 0, rows + "x" + cols + "+" + pad + " at " + a + "," + b);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void blocksRespectOffsetsAndStrides() {
        try (Arena arena = Arena.ofConfined()) {
            int side = Transposes.F32_SIDE;
            MemorySegment x = arena.allocate((3L + 20L * side) * Float.BYTES);
            for (long i = 0; i < x.byteSize() / Float.BYTES; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            }
            float[] y = new float[5 + 24 * side];
            Transposes.f32(x, 3L * Float.BYTES, 20L * Float.BYTES, y, 5, 24);
            for (int i = 0; i < side; i++) {
                for (int j = 0; j < side; j++) {
                    assertEquals(3 + i * 20 + j, y[5 + j * 24 + i], 0, "f32 block at " + i + "," + j);
                }
            }
            int sd = Transposes.F64_SIDE;
            MemorySegment u = arena.allocate((2L + 9L * sd) * Double.BYTES);
            for (long i = 0; i < u.byteSize() / Double.BYTES; i++) {
                u.setAtIndex(ValueLayout.JAVA_DOUBLE, i, -i);
            }
            double[] v = new double[1 + 11 * sd];
            Transposes.f64(u, 2L * Double.BYTES, 9L * Double.BYTES, v, 1, 11);
            for (int i = 0; i < sd; i++) {
                for (int j = 0; j < sd; j++) {
                    assertEquals(-(2 + i * 9 + j), v[1 + j * 11 + i], 0, "f64 block at " + i + "," + j);
                }
            }
        }
    }
}
