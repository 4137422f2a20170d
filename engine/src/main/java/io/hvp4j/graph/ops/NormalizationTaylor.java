package io.hvp4j.graph.ops;

/**
 * The third-order (Taylor-mode) rules shared by {@link LayerNorm} and {@link BatchNormTrain}, over one group of
 * {@code n} values that are normalised together (a LayerNorm slice, or a BatchNorm channel over the whole batch):
 * {@code d = x − ⟨x⟩}, {@code s = 1/√(⟨d²⟩ + ε)}, {@code x̂ = d·s}, {@code y = γ⊙x̂ + β}, with backward
 * {@code gx = s·(h − ⟨h⟩ − x̂⟨h⊙x̂⟩)}, {@code h = γ⊙g}, {@code gγ = Σ g⊙x̂}, {@code gβ = Σ g}.
 *
 * <p>Every quantity moves as {@code u + εu̇ + ½ε²ü} along the direction; the rules are the product rule applied to
 * these formulas to second order: {@code ḋ = ẋ − ⟨ẋ⟩}, {@code ṡ = −s²⟨x̂ḋ⟩},
 * {@code s̈ = 3s⁵⟨dḋ⟩² − s³(⟨ḋ²⟩ + ⟨d·d̈⟩)}, {@code ẋ̂ = sḋ + dṡ}, {@code ẍ̂ = sd̈ + 2ṡḋ + ds̈} (with {@code d = x̂/s});
 * {@code ÿ = γ⊙ẍ̂ + 2γ̇⊙ẋ̂}; and {@code g̈x = s̈q + 2ṡq̇ + sq̈} for {@code q = h − ⟨h⟩ − x̂m}, {@code m = ⟨h⊙x̂⟩},
 * {@code g̈γ = Σ (g̈⊙x̂ + 2ġ⊙ẋ̂ + g⊙ẍ̂)}. Parameters move linearly ({@code γ̈ = 0}). One instance per rule call
 * and thread: it keeps its work arrays for groups of up to {@code n} values.
 */
final class NormalizationTaylor {
    private final double[] xhd, xhdd, h, hd, hdd;
    private double sd, sdd;

    NormalizationTaylor(int n) {
        xhd = new double[n];
        xhdd = new double[n];
        h = new double[n];
        hd = new double[n];
        hdd = new double[n];
    }

    /** {@code ẋ̂} of the last {@link #normalized} call. */
    double[] xhatDot() {
        return xhd;
    }

    /** {@code ẍ̂} of the last {@link #normalized} call. */
    double[] xhatDDot() {
        return xhdd;
    }

    private static double mean(double[] a, int n) {
        double m = 0;
        for (int l = 0; l < n; l++) {
            m += a[l];
        }
        return m / n;
    }

    /** Computes {@code ẋ̂}, {@code ẍ̂} (kept) and {@code ṡ}, {@code s̈} of a group from {@code x̂}, {@code s}, {@code ẋ}, {@code ẍ}. */
    void normalized(double[] xh, double s, double[] xd, double[] xdd, int n) {
        double m1 = mean(xd, n), m2 = mean(xdd, n);
        double xhD1 = 0, d1d1 = 0, xhD2 = 0;
        for (int l = 0; l < n; l++) {
            double d1 = xd[l] - m1, d2 = xdd[l] - m2;
            xhD1 += xh[l] * d1;
            d1d1 += d1 * d1;
            xhD2 += xh[l] * d2;
        }
        xhD1 /= n;
        d1d1 /= n;
        xhD2 /= n;
        // v = ⟨d²⟩: v̇ = 2⟨dḋ⟩ = 2⟨x̂ḋ⟩/s, v̈ = 2⟨ḋ²⟩ + 2⟨x̂d̈⟩/s; s = (v + ε)^(-1/2).
        double s2 = s * s, s3 = s2 * s, vd = 2 * xhD1 / s, vdd = 2 * d1d1 + 2 * xhD2 / s;
        sd = -0.5 * s3 * vd;
        sdd = 0.75 * s3 * s2 * vd * vd - 0.5 * s3 * vdd;
        for (int l = 0; l < n; l++) {
            double d = xh[l] / s, d1 = xd[l] - m1, d2 = xdd[l] - m2;
            xhd[l] = s * d1 + d * sd;
            xhdd[l] = s * d2 + 2 * sd * d1 + d * sdd;
        }
    }

    /** {@code out = ÿ = γ⊙ẍ̂ + 2γ̇⊙ẋ̂} after {@link #normalized}. */
    void output(double[] gamma, double[] gammaDot, int n, double[] out) {
        for (int l = 0; l < n; l++) {
            out[l] = gamma[l] * xhdd[l] + 2 * gammaDot[l] * xhd[l];
        }
    }

    /**
     * After {@link #normalized}: {@code out = g̈x} and, unless null, {@code gammaTerm = g̈⊙x̂ + 2ġ⊙ẋ̂ + g⊙ẍ̂} (whose sum
     * over the group's uses of each γ is {@code g̈γ}).
     */
    void adjoint(double[] xh, double s, double[] gamma, double[] gammaDot, double[] g, double[] gd, double[] gdd,
                 int n, double[] out, double[] gammaTerm) {
        for (int l = 0; l < n; l++) {
            h[l] = gamma[l] * g[l];
            hd[l] = gammaDot[l] * g[l] + gamma[l] * gd[l];
            hdd[l] = 2 * gammaDot[l] * gd[l] + gamma[l] * gdd[l];
        }
        double mh = mean(h, n), mhd = mean(hd, n), mhdd = mean(hdd, n);
        double m = 0, md = 0, mdd = 0;
        for (int l = 0; l < n; l++) {
            m += h[l] * xh[l];
            md += hd[l] * xh[l] + h[l] * xhd[l];
            mdd += hdd[l] * xh[l] + 2 * hd[l] * xhd[l] + h[l] * xhdd[l];
        }
        m /= n;
        md /= n;
        mdd /= n;
        for (int l = 0; l < n; l++) {
            double q = h[l] - mh - xh[l] * m;
            double qd = hd[l] - mhd - xhd[l] * m - xh[l] * md;
            double qdd = hdd[l] - mhdd - xhdd[l] * m - 2 * xhd[l] * md - xh[l] * mdd;
            out[l] = sdd * q + 2 * sd * qd + s * qdd;
            if (gammaTerm != null) {
                gammaTerm[l] = gdd[l] * xh[l] + 2 * gd[l] * xhd[l] + g[l] * xhdd[l];
            }
        }
    }
}
