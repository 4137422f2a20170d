package io.hvp4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import io.hvp4j.spectral.SymmetricOperator;
import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** Misuse that used to give wrong numbers silently (found by an audit) now fails loudly. */
class SessionMisuseTest {
    private static final Mlp MLP = new Mlp(new int[] {20, 32, 5}, Activation.TANH, true);

    private static double[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextGaussian();
        }
        return v;
    }

    /**
     * Two threads computing on one session at once: each result is either the sequential one, bit for bit, or an
     * IllegalStateException. Before the guard 59 of 200 results were wrong (relative error up to 1.31).
     */
    @Test
    void concurrentCallsFailInsteadOfMixingBuffers() throws Exception {
        int p = MLP.parameterCount();
        double[] v0 = gaussian(p, 1), v1 = gaussian(p, 2);
        try (Session s = Session.builder().model(MLP).gaussianData(64).threads(2).open()) {
            double[] r0 = s.hvp(v0), r1 = s.hvp(v1);
            for (int rep = 0; rep < 100; rep++) {
                CompletableFuture<double[]> other = CompletableFuture.supplyAsync(() -> s.hvp(v0));
                double[] mine = null;
                try {
                    mine = s.hvp(v1);
                } catch (IllegalStateException expected) {
                    assertTrue(expected.getMessage().contains("not thread-safe"), expected.getMessage());
                }
                double[] theirs = null;
                try {
                    theirs = other.join();
                } catch (CompletionException e) {
                    assertTrue(e.getCause() instanceof IllegalStateException, e.toString());
                }
                if (mine != null) {
                    assertArrayEquals(r1, mine, "rep " + rep);
                }
                if (theirs != null) {
                    assertArrayEquals(r0, theirs, "rep " + rep);
                }
            }
            assertArrayEquals(r0, s.hvp(v0), "the session works after a refused call");
        }
    }

    /** The same tensor as input and output: refused (it gave products off by half their size). */
    @Test
    void overlappingInputAndOutputAreRefused() {
        int p = MLP.parameterCount();
        try (Session s = Session.builder().model(MLP).gaussianData(16).open(); Arena a = Arena.ofConfined()) {
            SymmetricOperator op = s.operator(Curvature.HESSIAN, null);
            Tensor w = Tensor.of(a, DType.F64, p, 1, gaussian(p, 3));
            assertThrows(IllegalArgumentException.class, () -> op.apply(w, w));
            Tensor both = Tensor.allocate(a, DType.F64, p + 1, 1);
            Tensor in = both.rowSlice(0, p), out = both.rowSlice(1, p);
            assertThrows(IllegalArgumentException.class, () -> s.objective().apply(Curvature.HESSIAN, null, in, out));
        }
    }

    @Test
    void nonFiniteVectorAndClosedSessionGiveClearErrors() {
        int p = MLP.parameterCount();
        Session s = Session.builder().model(MLP).gaussianData(16).open();
        double[] v = new double[p];
        v[3] = Double.NaN;
        assertThrows(InvalidInputException.class, () -> s.hvp(v));
        s.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, s::gradient);
        assertTrue(e.getMessage().contains("session is closed"), e.getMessage());
    }

    /** Audit leftovers: each threw an unhelpful exception (NPE, "non-finite" for a finite value, a second close). */
    @Test
    void defaultsAndLimitsAreExplained() {
        try (Session s = Session.builder().model(MLP).gaussianData(16).open()) {
            var r = s.rank(java.util.List.of(Curvature.HESSIAN), null, null);
            int rank = r.reports().get(Curvature.HESSIAN).rank();
            assertTrue(rank > 0 && rank <= MLP.parameterCount(), "rank " + rank);
        }
        double[] theta = gaussian(MLP.parameterCount(), 4);
        theta[7] = 1e300;
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Session.builder().model(MLP).dtype(DType.F32).parameters(theta).open());
        assertTrue(e.getMessage().contains("parameters[7]") && e.getMessage().contains("float32"), e.getMessage());
        // The same rule for a product's vector (in float32 1e300 became infinite and the product NaN).
        try (Session s = Session.builder().model(MLP).dtype(DType.F32).gaussianData(8).open()) {
            InvalidInputException v = assertThrows(InvalidInputException.class, () -> s.hvp(theta));
            assertTrue(v.getMessage().contains("the vector[7]") && v.getMessage().contains("float32"),
                    v.getMessage());
        }
        // float64 holds 1e300: the same parameters open there.
        Session.builder().model(MLP).dtype(DType.F64).parameters(theta).gaussianData(8).open().close();
        Session s = Session.builder().model(MLP).gaussianData(8).open();
        var f = s.objective();
        s.close();
        f.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, f::forwardLoss);
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }
}
