package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Comparator;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * The pure-Java fallback: EJML's symmetric eigendecomposition (tridiagonalization and implicit QR). The matrix is
 * copied into a Java array, so n is limited to 46,340 (n² < 2^31).
 */
final class EjmlEigen implements SymmetricEigen {
    static final EjmlEigen INSTANCE = new EjmlEigen();
    /** Largest n whose n² elements fit in one Java array. */
    static final int MAX_N = 46_340;

    private EjmlEigen() {
    }

    @Override
    public String name() {
        return "ejml";
    }

    @Override
    public double[] decomposeInPlace(Tensor a, boolean vectors) {
        int n = SymmetricEigen.requireSquareFinite(a);
        if (n == 0) {
            return new double[0];
        }
        if (n > MAX_N) {
            throw new InvalidInputException("the EJML eigensolver handles n <= " + MAX_N + ", got " + n
                    + "; install a native LAPACK");
        }
        DMatrixRMaj m = new DMatrixRMaj(n, n);
        MemorySegment.copy(a.segment(), ValueLayout.JAVA_DOUBLE, 0, m.data, 0, n * n);
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, vectors, true);
        if (!eig.decompose(m)) {
            throw new ArithmeticException("EJML symmetric eigendecomposition did not converge (n = " + n + ")");
        }
        int count = eig.getNumberOfEigenvalues();
        double[] raw = new double[count];
        for (int i = 0; i < count; i++) {
            raw[i] = eig.getEigenvalue(i).real;
        }
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> raw[i]));
        double[] values = new double[count];
        for (int j = 0; j < count; j++) {
            values[j] = raw[order[j]];
        }
        if (vectors) {
            MemorySegment seg = a.segment();
            for (int j = 0; j < count; j++) {
                DMatrixRMaj v = eig.getEigenVector(order[j]);
                for (int i = 0; i < n; i++) {
                    seg.setAtIndex(ValueLayout.JAVA_DOUBLE, (long) i * n + j, v.get(i, 0));
                }
            }
        }
        return values;
    }

    /** Transposes the row-major {@code n × n} f64 matrix in {@code seg} in place (blocked). */
    static void transposeInPlace(MemorySegment seg, int n) {
        final int b = 64;
        for (int i0 = 0; i0 < n; i0 += b) {
            for (int j0 = i0; j0 < n; j0 += b) {
                int i1 = Math.min(n, i0 + b), j1 = Math.min(n, j0 + b);
                for (int i = i0; i < i1; i++) {
                    for (int j = Math.max(j0, i + 1); j < j1; j++) {
                        long ij = (long) i * n + j, ji = (long) j * n + i;
                        double x = seg.getAtIndex(ValueLayout.JAVA_DOUBLE, ij);
                        seg.setAtIndex(ValueLayout.JAVA_DOUBLE, ij, seg.getAtIndex(ValueLayout.JAVA_DOUBLE, ji));
                        seg.setAtIndex(ValueLayout.JAVA_DOUBLE, ji, x);
                    }
                }
            }
        }
    }
}
