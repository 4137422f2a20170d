package io.hvp4j.backend.vector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;

/**
 * Prints the GEMM path this JVM selects ({@code lanes=<f32 lanes> mr=<rows> side=<transpose block>}) and a SHA-256
 * of C over shapes that fill whole 4- and 6-row panels, transposed-B blocks and edge tiles, NN/NT/TN/TT, f32/f64,
 * 1 and 2 threads, beta 0 and 0.5. Every k is at most 256, the smallest kc of any path, so each element of C is
 * one chain of FMAs in k order whatever the vector width and tile: the digest must not depend on the path.
 * Run by {@link VectorGemmTest} in child JVMs with narrower vectors.
 */
public final class GemmWidthProbe {
    private GemmWidthProbe() {
    }

    static final int[][] SHAPES = {{48, 64, 256}, {50, 40, 200}, {37, 45, 129}, {12, 96, 19}, {97, 33, 64}};

    public static void main(String[] args) throws Exception {
        System.out.println("lanes=" + FloatVector.SPECIES_PREFERRED.length() + " mr=" + VectorGemm.MR + " kernel="
                + VectorGemm.kernelName(VectorGemm.MR, FloatVector.SPECIES_PREFERRED.vectorBitSize()) + " side="
                + Transposes.F32_SIDE + "/" + Transposes.F64_SIDE + " digest=" + digest());
    }

    static String digest() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (Arena arena = Arena.ofShared(); WorkerPool p1 = new WorkerPool(1); WorkerPool p2 = new WorkerPool(2)) {
            VectorGemm[] gs = {new VectorGemm(p1), new VectorGemm(p2)};
            for (int[] s : SHAPES) {
                int m = s[0], n = s[1], k = s[2];
                for (int t = 0; t < 4; t++) {
                    boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                    for (boolean dbl : new boolean[] {false, true}) {
                        for (VectorGemm g : gs) {
                            for (double beta : new double[] {0, 0.5}) {
                                SplittableRandom rnd = new SplittableRandom(m * 1_000_003L + n * 1009L + k + t);
                                long es = dbl ? 8 : 4;
                                MemorySegment a = arena.allocate((long) m * k * es);
                                MemorySegment b = arena.allocate((long) k * n * es);
                                MemorySegment c = arena.allocate((long) m * n * es);
                                fill(a, dbl, rnd);
                                fill(b, dbl, rnd);
                                fill(c, dbl, rnd);
                                int lda = ta ? m : k, ldb = tb ? k : n;
                                if (dbl) {
                                    g.dgemm(ta, tb, m, n, k, 0.75, a, lda, b, ldb, beta, c, n);
                                } else {
                                    g.sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, (float) beta, c, n);
                                }
                                md.update(c.toArray(ValueLayout.JAVA_BYTE));
                            }
                        }
                    }
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void fill(MemorySegment s, boolean dbl, SplittableRandom rnd) {
        long count = s.byteSize() / (dbl ? 8 : 4);
        for (long i = 0; i < count; i++) {
            if (dbl) {
                s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, rnd.nextDouble(-1, 1));
            } else {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
            }
        }
    }
}
