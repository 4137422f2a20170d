package io.hvp4j.graph.ops;

import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Bulk moves of runs of a host tensor into and out of heap {@code double[]} buffers, so that the ops' per-element
 * loops (pooling, per-channel maps) run over plain arrays instead of one bounds-checked, dtype-dispatched
 * {@link Tensor#get} per element. One instance per call site and thread (it keeps a float staging buffer).
 */
final class Planes {
    private float[] stage = new float[0];
    private double[] wide = new double[0];

    /** {@code dst[0..n) = t[at..at+n)}. */
    void read(Tensor t, long at, int n, double[] dst) {
        MemorySegment s = t.segment();
        if (t.dtype() == DType.F64) {
            MemorySegment.copy(s, ValueLayout.JAVA_DOUBLE, at * 8, dst, 0, n);
            return;
        }
        float[] f = stage(n);
        MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, at * 4, f, 0, n);
        for (int i = 0; i < n; i++) {
            dst[i] = f[i];
        }
    }

    /** {@code dst[0..n) = t[at..at+n)}, or zeros when {@code t} is null (a symbolic zero tangent). */
    void readOrZero(Tensor t, long at, int n, double[] dst) {
        if (t == null) {
            java.util.Arrays.fill(dst, 0, n, 0);
        } else {
            read(t, at, n, dst);
        }
    }

    /** {@code t[at..at+n) = src[0..n)}, rounded to the tensor's dtype. */
    void write(double[] src, int n, Tensor t, long at) {
        MemorySegment s = t.segment();
        if (t.dtype() == DType.F64) {
            MemorySegment.copy(src, 0, s, ValueLayout.JAVA_DOUBLE, at * 8, n);
            return;
        }
        float[] f = stage(n);
        for (int i = 0; i < n; i++) {
            f[i] = (float) src[i];
        }
        MemorySegment.copy(f, 0, s, ValueLayout.JAVA_FLOAT, at * 4, n);
    }

    /** {@code dst[di..di+n) += src[si..si+n)} (same dtype), in the tensors' own precision. */
    void add(Tensor src, long si, Tensor dst, long di, int n) {
        MemorySegment s = src.segment(), d = dst.segment();
        if (dst.dtype() == DType.F64) {
            double[] a = wide(2 * n);
            MemorySegment.copy(s, ValueLayout.JAVA_DOUBLE, si * 8, a, 0, n);
            MemorySegment.copy(d, ValueLayout.JAVA_DOUBLE, di * 8, a, n, n);
            for (int i = 0; i < n; i++) {
                a[n + i] += a[i];
            }
            MemorySegment.copy(a, n, d, ValueLayout.JAVA_DOUBLE, di * 8, n);
            return;
        }
        float[] a = stage(2 * n);
        MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, si * 4, a, 0, n);
        MemorySegment.copy(d, ValueLayout.JAVA_FLOAT, di * 4, a, n, n);
        for (int i = 0; i < n; i++) {
            a[n + i] += a[i];
        }
        MemorySegment.copy(a, n, d, ValueLayout.JAVA_FLOAT, di * 4, n);
    }

    private double[] wide(int n) {
        if (wide.length < n) {
            wide = new double[n];
        }
        return wide;
    }

    private float[] stage(int n) {
        if (stage.length < n) {
            stage = new float[n];
        }
        return stage;
    }
}
