package io.hvp4j.spectral;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;
import java.lang.foreign.Arena;
import java.util.Arrays;

/** Curvature operators of an {@link Objective} and their compositions (sum, scale, shift, restriction). */
public final class Operators {
    private Operators() {
    }

    /**
     * The curvature {@code c} of {@code f} over the whole parameter vector ({@code layer < 0}) or its diagonal
     * block for one layer (0-based; dimension = that layer's parameter count, weight then bias).
     *
     * @param f     the objective
     * @param c     the curvature
     * @param layer a 0-based layer, or negative for all parameters
     * @return the operator (valid while its parts are)
     */
    public static SymmetricOperator curvature(MlpObjective f, Curvature c, int layer) {
        int n = layer < 0 ? f.parameterCount() : f.mlp().layerParameterCount(layer);
        String what = label(c) + (layer < 0 ? "" : " (layer " + layer + ")");
        return new SymmetricOperator() {
            public int dimension() { return n; }
            public DType dtype() { return f.dtype(); }
            public int maxBlock() { return f.maxBlock(); }
            public void apply(Tensor v, Tensor out) { f.apply(c, layer, v, out); }
            public String description() { return what; }
        };
    }

    /**
     * The curvature {@code c} of {@code f} over all parameters ({@code group} null) or its diagonal block for a
     * parameter group (dimension = the group's size; its parameters in flat order).
     *
     * @param f     the objective
     * @param c     the curvature
     * @param group a parameter group, or null for all parameters
     * @return the operator (valid while its parts are)
     */
    public static SymmetricOperator curvature(Objective f, Curvature c, ParameterGroup group) {
        int n = group == null ? f.parameterCount() : group.size();
        String what = label(c) + (group == null ? "" : " (" + group.name() + ")");
        return new SymmetricOperator() {
            public int dimension() { return n; }
            public DType dtype() { return f.dtype(); }
            public int maxBlock() { return f.maxBlock(); }
            public void apply(Tensor v, Tensor out) { f.apply(c, group, v, out); }
            public String description() { return what; }
        };
    }

    private static String label(Curvature c) {
        return switch (c) {
            case HESSIAN -> "H";
            case GAUSS_NEWTON -> "H_O";
            case FUNCTIONAL -> "H_F";
        };
    }

    /**
     * {@code alpha·A + beta·B}.
     *
     * @param alpha A's factor
     * @param a     A
     * @param beta  B's factor
     * @param b     B, of A's dimension
     * @return the operator (valid while its parts are)
     */
    public static SymmetricOperator linearCombination(double alpha, SymmetricOperator a, double beta,
                                                      SymmetricOperator b) {
        if (a.dimension() != b.dimension()) {
            throw new IllegalArgumentException("dimensions differ: " + a.dimension() + " vs " + b.dimension());
        }
        return new SymmetricOperator() {
            public int dimension() { return a.dimension(); }
            public DType dtype() { return a.dtype() == DType.F64 || b.dtype() == DType.F64 ? DType.F64 : DType.F32; }
            public int maxBlock() { return Math.min(a.maxBlock(), b.maxBlock()); }
            public void apply(Tensor v, Tensor out) {
                try (Arena tmp = Arena.ofShared()) { // shared: a multi-threaded backend reads these on its workers
                    Tensor t = Tensor.allocate(tmp, out.dtype(), out.rows(), out.cols());
                    a.apply(v, out);
                    b.apply(v, t);
                    for (long i = 0, n = out.size(); i < n; i++) out.set(i, alpha * out.get(i) + beta * t.get(i));
                }
            }
            public String description() { return alpha + "·" + a.description() + " + " + beta + "·" + b.description(); }
        };
    }

    /**
     * {@code A + B}.
     *
     * @param a A
     * @param b B, of A's dimension
     * @return the operator (valid while its parts are)
     */
    public static SymmetricOperator sum(SymmetricOperator a, SymmetricOperator b) {
        return linearCombination(1, a, 1, b);
    }

    /**
     * {@code s·A}.
     *
     * @param a A
     * @param s the factor
     * @return the operator (valid while its parts are)
     */
    public static SymmetricOperator scale(SymmetricOperator a, double s) {
        return new SymmetricOperator() {
            public int dimension() { return a.dimension(); }
            public DType dtype() { return a.dtype(); }
            public int maxBlock() { return a.maxBlock(); }
            public void apply(Tensor v, Tensor out) {
                a.apply(v, out);
                for (long i = 0, n = out.size(); i < n; i++) out.set(i, s * out.get(i));
            }
            public String description() { return s + "·" + a.description(); }
        };
    }

    /**
     * {@code A + σ·I}.
     *
     * @param a     A
     * @param sigma the shift σ
     * @return the operator (valid while its parts are)
     */
    public static SymmetricOperator shift(SymmetricOperator a, double sigma) {
        return new SymmetricOperator() {
            public int dimension() { return a.dimension(); }
            public DType dtype() { return a.dtype(); }
            public int maxBlock() { return a.maxBlock(); }
            public void apply(Tensor v, Tensor out) {
                a.apply(v, out);
                for (long i = 0, n = out.size(); i < n; i++) out.set(i, out.get(i) + sigma * v.get(i));
            }
            public String description() { return a.description() + " + " + sigma + "·I"; }
        };
    }

    /**
     * The principal submatrix {@code A[idx, idx]}: vectors of {@code idx.length} elements are scattered into the
     * full space (zeros elsewhere), multiplied, and gathered back.
     *
     * @param a   A
     * @param idx the kept indices, strictly increasing (copied)
     * @return the operator (valid while its parts are)
     */
    public static SymmetricOperator restrict(SymmetricOperator a, int[] idx) {
        int[] index = idx.clone();
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= a.dimension() || (i > 0 && index[i] <= index[i - 1])) {
                throw new IllegalArgumentException("restriction indices must be increasing and in [0, "
                        + a.dimension() + ")");
            }
        }
        return new SymmetricOperator() {
            public int dimension() { return index.length; }
            public DType dtype() { return a.dtype(); }
            public int maxBlock() { return a.maxBlock(); }
            public void apply(Tensor v, Tensor out) {
                int k = v.cols();
                try (Arena tmp = Arena.ofShared()) { // shared: a multi-threaded backend reads these on its workers
                    Tensor full = Tensor.allocate(tmp, a.dtype(), a.dimension(), k);
                    Tensor res = Tensor.allocate(tmp, a.dtype(), a.dimension(), k);
                    for (int i = 0; i < index.length; i++) {
                        for (int j = 0; j < k; j++) full.set(index[i], j, v.get(i, j));
                    }
                    a.apply(full, res);
                    for (int i = 0; i < index.length; i++) {
                        for (int j = 0; j < k; j++) out.set(i, j, res.get(index[i], j));
                    }
                }
            }
            public String description() {
                return a.description() + " restricted to " + index.length + " coordinates";
            }
        };
    }

    /**
     * A dense symmetric matrix as an operator (for tests and small problems).
     *
     * @param m the matrix, {@code n × n} (copied)
     * @return the operator, float64
     */
    public static SymmetricOperator dense(double[][] m) {
        int n = m.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = Arrays.copyOf(m[i], n);
        }
        return new SymmetricOperator() {
            public int dimension() { return n; }
            public DType dtype() { return DType.F64; }
            public int maxBlock() { return Integer.MAX_VALUE; }
            public void apply(Tensor v, Tensor out) {
                int k = v.cols();
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < k; j++) {
                        double s = 0;
                        for (int p = 0; p < n; p++) s += a[i][p] * v.get(p, j);
                        out.set(i, j, s);
                    }
                }
            }
            public String description() { return "dense " + n + "x" + n; }
        };
    }
}
