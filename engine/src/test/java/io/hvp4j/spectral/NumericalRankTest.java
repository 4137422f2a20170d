package io.hvp4j.spectral;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.DType;
import io.hvp4j.spectral.NumericalRank.Tolerance;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NumericalRankTest {
    @Test
    void defaultToleranceIsNumpys() {
        // numpy: tol = S.max() * max(M, N) * eps; rank = count(S > tol).
        double[] eig = {-4, 2, 1e-9, -3e-15, 0, 5e-16};
        RankReport r = NumericalRank.ofEigenvalues(eig, DType.F64, Tolerance.DEFAULT);
        double tau = 4.0 * 6 * 0x1p-52; // 5.33e-15
        assertEquals(tau, r.tolerance());
        assertEquals(3, r.rank());
        assertEquals(4, r.sigmaMax());
        assertEquals("default", r.toleranceSpec());
        // An eigenvalue exactly at τ is not counted (strict >), one ulp above is.
        double[] edge = {1, -3 * 0x1p-52, Math.nextUp(3 * 0x1p-52)};
        RankReport e = NumericalRank.ofEigenvalues(edge, DType.F64, Tolerance.DEFAULT);
        assertEquals(3 * 0x1p-52, e.tolerance());
        assertEquals(2, e.rank());
        // f32 products: eps 2^-23.
        RankReport f = NumericalRank.ofEigenvalues(new double[] {1, 1e-6, 1e-7}, DType.F32, Tolerance.DEFAULT);
        assertEquals(3 * 0x1p-23, f.tolerance());
        assertEquals(2, f.rank());
        // Rectangular: max(rows, cols).
        RankReport x = NumericalRank.ofSingularValues(new double[] {2, 1, 1e-13}, 100, 3, DType.F64, null);
        assertEquals(2.0 * 100 * 0x1p-52, x.tolerance());
        assertEquals(3, x.rank());
    }

    @Test
    void relativeAndAbsolute() {
        double[] eig = {10, -1, 1e-3, 1e-7};
        assertEquals(2, NumericalRank.ofEigenvalues(eig, DType.F64, Tolerance.parse("rel:1e-3")).rank());
        assertEquals(3, NumericalRank.ofEigenvalues(eig, DType.F64, Tolerance.parse("rel:1e-5")).rank());
        assertEquals(1.0, NumericalRank.ofEigenvalues(eig, DType.F64, Tolerance.parse("abs:1")).tolerance());
        assertEquals(1, NumericalRank.ofEigenvalues(eig, DType.F64, Tolerance.parse("abs:1")).rank());
        assertEquals(4, NumericalRank.ofEigenvalues(eig, DType.F64, Tolerance.parse("abs:0")).rank());
        assertEquals("rel:1.0E-5", Tolerance.parse(" rel: 1e-5 ").spec());
        assertEquals(Tolerance.DEFAULT, Tolerance.parse("default"));
        assertEquals(Tolerance.DEFAULT, Tolerance.parse(null));
    }

    @Test
    void ladderAndGap() {
        double[] eig = {1, -1e-3, 1e-5, 1e-7, -1e-9, 1e-11, 1e-13, 0};
        RankReport r = NumericalRank.ofEigenvalues(eig, DType.F64, Tolerance.DEFAULT);
        Map<String, Integer> ladder = r.ladder();
        assertEquals(List.of("1e-12", "1e-10", "1e-8", "1e-6", "1e-4"), List.copyOf(ladder.keySet()));
        assertEquals(List.of(6, 5, 4, 3, 2), List.copyOf(ladder.values()));
        assertEquals(7, r.rank()); // 1e-13 > 8·2.2e-16
        assertEquals(Double.POSITIVE_INFINITY, r.gap()); // σ_8 = 0
        RankReport rel = NumericalRank.ofEigenvalues(eig, DType.F64, Tolerance.relative(1e-6));
        assertEquals(3, rel.rank());
        assertEquals(1e-5 / 1e-7, rel.gap(), 1e-9);
        assertEquals(1e-5, rel.sigmaLastKept());
        assertEquals(1e-7, rel.sigmaFirstDropped());
        RankReport full = NumericalRank.ofEigenvalues(new double[] {1, 2}, DType.F64, null);
        assertEquals(2, full.rank());
        assertEquals(Double.POSITIVE_INFINITY, full.gap());
        RankReport zero = NumericalRank.ofEigenvalues(new double[] {0, 0}, DType.F64, null);
        assertEquals(0, zero.rank());
        assertTrue(Double.isNaN(zero.gap()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"rel:-1e-3", "abs:-0.5", "rel:NaN", "abs:nan", "rel:Infinity", "abs:inf", "rel:",
        "rel:abc", "rel:1e-3x", "rel:0x1p-3", "rel:1e-3d", "tol:1e-3", "relative1e-3", "1e-10", "foo", "rel:1e999"})
    void malformedTolerances(String s) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Tolerance.parse(s));
        assertTrue(e.getMessage().contains(s.trim()) || e.getMessage().contains("tolerance"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void malformedMessagesSayWhy() {
        assertTrue(msg("rel:-1").contains("negative"));
        assertTrue(msg("rel:NaN").contains("NaN"));
        assertTrue(msg("abs:inf").contains("infinite"));
        assertTrue(msg("tol:1").contains("unknown tolerance prefix"));
        assertTrue(msg("1e-10").contains("rel:1e-10"));
    }

    private static String msg(String s) {
        return assertThrows(InvalidInputException.class, () -> Tolerance.parse(s)).getMessage();
    }
}
