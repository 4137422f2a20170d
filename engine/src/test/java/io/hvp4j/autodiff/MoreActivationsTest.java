package io.hvp4j.autodiff;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.backend.vector.VectorErf;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The activations beyond the MLP set: erf against high-precision values, derivatives by finite differences, names. */
class MoreActivationsTest {
    static List<ElementwiseFunction> functions() {
        List<ElementwiseFunction> fs = new ArrayList<>(List.of(SmoothActivation.values()));
        fs.add(ParametricActivation.elu(1));
        fs.add(ParametricActivation.elu(0.5));
        fs.add(ParametricActivation.leakyRelu(0.2));
        return fs;
    }

    @Test
    void erfMatchesHighPrecisionValues() {
        // erf to 20 digits (mpmath, 40-digit arithmetic).
        double[][] ref = {
                {0, 0}, {1e-10, 1.1283791670955125739e-10}, {0.3, 0.32862675945912742764},
                {0.5, 0.52049987781304653768}, {0.84, 0.76514271145499453466}, {1, 0.84270079294971486934},
                {1.25, 0.92290012825645823014}, {2, 0.99532226501895273416}, {2.5, 0.99959304798255504106},
                {2.9999, 0.99997789557351783912}, {3.0001, 0.99997792342412980667}, {3.5, 0.99999925690162765859},
                {4, 0.99999998458274209972}, {5, 0.99999999999846254021}, {5.8, 0.99999999999999976444},
                {-1.7, -0.98379045859077456363}, {7, 1}, {-40, -1}};
        for (double[] r : ref) {
            double got = VectorErf.erf(r[0]);
            assertEquals(r[1], got, 4 * Math.ulp(r[1]) + 1e-300, "erf(" + r[0] + ")");
        }
        assertTrue(Double.isNaN(VectorErf.erf(Double.NaN)));
    }

    @Test
    void derivativesAreFiniteDifferences() {
        double h = 1e-5;
        for (ElementwiseFunction f : functions()) {
            for (double z = -4.05; z < 4; z += 0.37) {
                double fd1 = (f.value(z + h) - f.value(z - h)) / (2 * h);
                double fd2 = (f.d1(z + h) - f.d1(z - h)) / (2 * h);
                double fd3 = (f.d2(z + h) - f.d2(z - h)) / (2 * h);
                assertEquals(fd1, f.d1(z), 1e-8, f.id() + " d1 at " + z);
                assertEquals(fd2, f.d2(z), 1e-8, f.id() + " d2 at " + z);
                assertEquals(fd3, f.d3(z), 1e-8, f.id() + " d3 at " + z);
            }
        }
    }

    @Test
    void geluErfAndSiluAtKnownPoints() {
        // gelu(1) = Φ(1) = 0.8413447460685429..., silu(1) = 1/(1+e^-1) = 0.7310585786300049...
        assertEquals(0.8413447460685429, SmoothActivation.GELU_ERF.value(1), 4e-16);
        assertEquals(0.7310585786300049, SmoothActivation.SILU.value(1), 4e-16);
        assertEquals(0.5 * Math.expm1(-2), ParametricActivation.elu(0.5).value(-2), 4e-16);
        assertEquals(-0.6, ParametricActivation.leakyRelu(0.2).value(-3), 4e-16);
    }

    @Test
    void namesParseBack() {
        for (ElementwiseFunction f : functions()) {
            assertEquals(f, Activations.parse(f.id()), f.id());
        }
        for (Activation a : Activation.values()) {
            assertSame(a, Activations.parse(a.id()));
        }
        assertSame(Activation.GELU, Activations.parse("gelu_tanh"));
        assertSame(SmoothActivation.GELU_ERF, Activations.parse("GELU-erf"));
        assertEquals(ParametricActivation.elu(1), Activations.parse("elu"));
        assertEquals(ParametricActivation.leakyRelu(0.3), Activations.parse("leaky_relu(0.3)"));
        assertThrows(InvalidInputException.class, () -> Activations.parse("leaky_relu(x)"));
        assertThrows(InvalidInputException.class, () -> Activations.parse("swishy"));
        assertThrows(InvalidInputException.class, () -> Activations.parse("elu(NaN)"));
    }
}
