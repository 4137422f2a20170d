package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.ops.Binary;
import io.hvp4j.graph.ops.Identity;
import io.hvp4j.graph.ops.Reduce;
import io.hvp4j.graph.ops.Slice;
import io.hvp4j.memory.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Element-wise arithmetic with broadcasting, reductions, Dropout/Identity through {@link OpRulesHarness}, and their
 * shape rules.
 */
class ArithmeticOpRulesTest extends OpRulesHarness {
    static Stream<Arguments> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(c("div-raw", Binary.DIV, Shape.of(2, 3), "x", Shape.of(2, 3), "x"));
        for (Op op : new Op[] {Binary.ADD, Binary.SUB, Binary.MUL, new ShiftedDivisor()}) {
            String t = op.type().toLowerCase(java.util.Locale.ROOT);
            cs.add(c(t, op, Shape.of(2, 3), "x", Shape.of(2, 3), "x"));
            cs.add(c(t + "-row", op, Shape.of(2, 3), "x", Shape.of(3), "x"));
            cs.add(c(t + "-outer", op, Shape.of(2, 1, 3), "x", Shape.of(4, 1), "x"));
            cs.add(c(t + "-channel-param", op, Shape.of(3, 2, 2), "x", Shape.of(3, 1, 1), "p"));
            cs.add(c(t + "-onnx-param", op, Shape.of(3, 2, 2), "x", Shape.of(1, 3, 1, 1), "p"));
            cs.add(c(t + "-param-first", op, Shape.of(2, 3), "p", Shape.of(2, 3), "x"));
            cs.add(c(t + "-scalar-param-first", op, Shape.of(1), "p", Shape.of(4), "x"));
            cs.add(c(t + "-const", op, Shape.of(2, 3), "x", Shape.of(2, 1), "const+"));
            cs.add(c(t + "-const-first", op, Shape.of(3), "const+", Shape.of(2, 3), "x"));
        }
        cs.add(c("reducesum-keep", new Reduce(Reduce.Mode.SUM, true, 1), Shape.of(2, 3, 4), "x"));
        cs.add(c("reducesum-two", new Reduce(Reduce.Mode.SUM, false, 0, 2), Shape.of(2, 3, 4), "x"));
        cs.add(c("reducemean-neg", new Reduce(Reduce.Mode.MEAN, false, -1), Shape.of(2, 3, 4), "x"));
        cs.add(c("reducemean-spatial-keep", new Reduce(Reduce.Mode.MEAN, true, 1, 2), Shape.of(3, 2, 2), "x"));
        cs.add(c("reducemean-all", new Reduce(Reduce.Mode.MEAN, false), Shape.of(2, 3), "x"));
        cs.add(c("dropout", Identity.dropout(0.5), Shape.of(2, 3), "x"));
        cs.add(c("identity", Identity.identity(), Shape.of(5), "x"));
        cs.add(c("slice-last", new Slice(1, 1, 4, 1), Shape.of(2, 5), "x"));
        cs.add(c("slice-middle-step", new Slice(1, 0, 5, 2), Shape.of(2, 5, 3), "x"));
        cs.add(c("slice-first", new Slice(0, 2, 3, 1), Shape.of(3, 4), "x"));
        return onBothBackends(cs);
    }

    /**
     * {@link Binary#DIV} with its divisor moved by +4, so that the random (Gaussian) divisors of the harness stay
     * away from 0, where finite differences of {@code 1/b} lose their accuracy. The shift has derivative 1: every
     * rule is Div's own, at the shifted point.
     */
    private static final class ShiftedDivisor implements Op {
        @Override
        public String type() {
            return "Div";
        }

        @Override
        public Shape outputShape(Shape[] in, boolean[] batched) {
            return Binary.DIV.outputShape(in, batched);
        }

        private static void shifted(OpContext c, java.util.function.Consumer<OpContext> rule) {
            Tensor[] saved = c.in;
            Tensor b = saved[1];
            Tensor moved = Tensor.allocate(java.lang.foreign.Arena.ofAuto(), b.dtype(), b.rows(), b.cols());
            for (long i = 0; i < b.size(); i++) {
                moved.set(i, b.get(i) + 4);
            }
            c.in = new Tensor[] {saved[0], moved};
            try {
                rule.accept(c);
            } finally {
                c.in = saved;
            }
        }

        @Override
        public void forward(OpContext c) {
            shifted(c, Binary.DIV::forward);
        }

        @Override
        public void tangent(OpContext c) {
            shifted(c, Binary.DIV::tangent);
        }

        @Override
        public void backward(OpContext c) {
            shifted(c, Binary.DIV::backward);
        }

        @Override
        public void tangentOfBackward(OpContext c, boolean secondOrder) {
            shifted(c, x -> Binary.DIV.tangentOfBackward(x, secondOrder));
        }

        @Override
        public void secondTangent(OpContext c) {
            shifted(c, Binary.DIV::secondTangent);
        }

        @Override
        public void secondTangentOfBackward(OpContext c) {
            shifted(c, Binary.DIV::secondTangentOfBackward);
        }
    }

    private static Shape out(io.hvp4j.graph.Op op, Shape a, boolean ba, Shape b, boolean bb) {
        return op.outputShape(new Shape[] {a, b}, new boolean[] {ba, bb});
    }

    @Test
    void broadcastShapes() {
        assertEquals(Shape.of(2, 4, 3), out(Binary.MUL, Shape.of(2, 1, 3), true, Shape.of(4, 1), true));
        assertEquals(Shape.of(3, 2, 2), out(Binary.DIV, Shape.of(3, 2, 2), true, Shape.of(1, 3, 1, 1), false));
        assertEquals(Shape.of(2, 3), out(Binary.SUB, Shape.of(3), false, Shape.of(2, 3), true));
        assertThrows(InvalidInputException.class, () -> out(Binary.MUL, Shape.of(2, 3), true, Shape.of(4), true));
        assertThrows(InvalidInputException.class, () -> out(Binary.MUL, Shape.of(2, 3), false, Shape.of(3), false));
        assertThrows(InvalidInputException.class, () -> out(Binary.ADD, Shape.of(3), true, Shape.of(2, 3), false));
        assertThrows(InvalidInputException.class, () -> Binary.MUL.outputShape(new Shape[] {Shape.of(3)},
                new boolean[] {true}));
    }

    @Test
    void reduceShapes() {
        Shape[] in = {Shape.of(2, 3, 4)};
        boolean[] b = {true};
        assertEquals(Shape.of(2, 1, 4), new Reduce(Reduce.Mode.SUM, true, 1).outputShape(in, b));
        assertEquals(Shape.of(3), new Reduce(Reduce.Mode.MEAN, false, 0, -1).outputShape(in, b));
        assertEquals(1, new Reduce(Reduce.Mode.MEAN, false).outputShape(in, b).size());
        assertEquals(Shape.of(1, 1, 1), new Reduce(Reduce.Mode.MEAN, true).outputShape(in, b));
        assertThrows(InvalidInputException.class, () -> new Reduce(Reduce.Mode.SUM, true, 3).outputShape(in, b));
        assertThrows(InvalidInputException.class, () -> new Reduce(Reduce.Mode.SUM, true, 1, -2).outputShape(in, b));
        assertThrows(InvalidInputException.class, () -> new Reduce(Reduce.Mode.SUM, true).outputShape(in,
                new boolean[] {false}));
        assertThrows(InvalidInputException.class, () -> Identity.dropout(1));
    }
}
