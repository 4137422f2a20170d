package io.hvp4j.autodiff;

import io.hvp4j.model.Mlp;

/** An independent plain-Java MLP forward pass and loss in double precision, for finite-difference references. */
final class ReferenceMlp {
    private ReferenceMlp() {
    }

    /** Network outputs for one input row. */
    static double[] outputs(Mlp mlp, double[] theta, double[] x) {
        double[] a = x;
        for (int l = 0; l < mlp.layers(); l++) {
            int in = mlp.width(l), out = mlp.width(l + 1);
            double[] z = new double[out];
            for (int o = 0; o < out; o++) {
                double s = mlp.hasBias() ? theta[mlp.biasOffset(l) + o] : 0;
                for (int i = 0; i < in; i++) s += theta[mlp.weightOffset(l) + o * in + i] * a[i];
                z[o] = s;
            }
            if (l < mlp.layers() - 1) {
                for (int o = 0; o < out; o++) z[o] = mlp.activation().value(z[o]);
            }
            a = z;
        }
        return a;
    }

    static double sampleLoss(Loss loss, double[] f, double[] y) {
        double s = 0;
        switch (loss) {
            case MSE -> {
                for (int c = 0; c < f.length; c++) s += 0.5 * (f[c] - y[c]) * (f[c] - y[c]);
            }
            case COSH -> {
                for (int c = 0; c < f.length; c++) s += Math.log(Math.cosh(f[c] - y[c]));
            }
            case CE -> {
                double max = Double.NEGATIVE_INFINITY;
                for (double v : f) max = Math.max(max, v);
                double z = 0;
                for (double v : f) z += Math.exp(v - max);
                double lse = max + Math.log(z);
                for (int c = 0; c < f.length; c++) s -= y[c] * (f[c] - lse);
            }
        }
        return s;
    }

    /** The loss Hessian ∇²_f ℓ for one sample (K × K). */
    static double[][] lossHessian(Loss loss, double[] f, double[] y) {
        int K = f.length;
        double[][] h = new double[K][K];
        switch (loss) {
            case MSE -> {
                for (int c = 0; c < K; c++) h[c][c] = 1;
            }
            case COSH -> {
                for (int c = 0; c < K; c++) {
                    double t = Math.tanh(f[c] - y[c]);
                    h[c][c] = 1 - t * t;
                }
            }
            case CE -> {
                double max = Double.NEGATIVE_INFINITY;
                for (double v : f) max = Math.max(max, v);
                double z = 0;
                for (double v : f) z += Math.exp(v - max);
                double[] p = new double[K];
                for (int c = 0; c < K; c++) p[c] = Math.exp(f[c] - max) / z;
                for (int a = 0; a < K; a++) {
                    for (int b = 0; b < K; b++) h[a][b] = (a == b ? p[a] : 0) - p[a] * p[b];
                }
            }
        }
        return h;
    }

    static double loss(Mlp mlp, Loss loss, double[] theta, double[][] x, double[][] y, double scale) {
        double s = 0;
        for (int i = 0; i < x.length; i++) s += sampleLoss(loss, outputs(mlp, theta, x[i]), y[i]);
        return scale * s;
    }
}
