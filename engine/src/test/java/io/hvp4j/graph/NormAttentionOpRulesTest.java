package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.graph.ops.LayerNorm;
import io.hvp4j.graph.ops.MatMul;
import io.hvp4j.graph.ops.Permute;
import io.hvp4j.graph.ops.Softmax;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * LayerNorm, Softmax on any axis, MatMul (activation × activation, parameter × activation, activation × parameter)
 * and Permute through {@link OpRulesHarness}, with the harness's tolerances; and their refusals of bad shapes.
 */
class NormAttentionOpRulesTest extends OpRulesHarness {
    static Stream<Arguments> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(c("permute-transpose", new Permute(1, 0), Shape.of(3, 4), "x"));
        cs.add(c("permute-last-two", new Permute(0, 2, 1), Shape.of(2, 3, 4), "x"));
        cs.add(c("permute-rotate", new Permute(2, 0, 1), Shape.of(2, 3, 4), "x"));
        cs.add(c("permute-reverse", new Permute(2, 1, 0), Shape.of(2, 3, 4), "x"));
        cs.add(c("permute-general", new Permute(1, 0, 3, 2), Shape.of(2, 3, 2, 2), "x"));
        cs.add(c("permute-identity", new Permute(0, -1), Shape.of(2, 3), "x"));
        cs.add(c("matmul-act-act", MatMul.INSTANCE, Shape.of(3, 4), "x", Shape.of(4, 2), "x"));
        cs.add(c("matmul-act-act-batched", MatMul.INSTANCE, Shape.of(2, 3, 4), "x", Shape.of(2, 4, 5), "x"));
        cs.add(c("matmul-param-act", MatMul.INSTANCE, Shape.of(3, 4), "p", Shape.of(2, 4, 2), "x"));
        cs.add(c("matmul-act-param", MatMul.INSTANCE, Shape.of(2, 3, 4), "x", Shape.of(4, 5), "p"));
        cs.add(c("matmul-act-const", MatMul.INSTANCE, Shape.of(3, 4), "x", Shape.of(4, 2), "const"));
        cs.add(c("matmul-const-act", MatMul.INSTANCE, Shape.of(3, 4), "const", Shape.of(4, 2), "x"));
        cs.add(c("softmax-last", new Softmax(-1), Shape.of(3, 4), "x"));
        cs.add(c("softmax-first", new Softmax(0), Shape.of(3, 4), "x"));
        cs.add(c("softmax-middle", new Softmax(1), Shape.of(2, 3, 2), "x"));
        cs.add(c("softmax-vector", new Softmax(0), Shape.of(5), "x"));
        cs.add(c("softmax-last-3d", new Softmax(2), Shape.of(2, 2, 3), "x"));
        cs.add(c("layernorm", new LayerNorm(new int[] {5}, 1e-5), Shape.of(3, 5), "x", Shape.of(5), "p",
                Shape.of(5), "p"));
        cs.add(c("layernorm-2d", new LayerNorm(new int[] {2, 3}, 1e-3), Shape.of(2, 2, 3), "x", Shape.of(2, 3), "p",
                Shape.of(2, 3), "p"));
        cs.add(c("layernorm-weight-only", new LayerNorm(new int[] {4}, 1e-5), Shape.of(4), "x", Shape.of(4), "p"));
        cs.add(c("layernorm-plain", new LayerNorm(new int[] {6}, 1e-5), Shape.of(2, 6), "x"));
        return onBothBackends(cs);
    }

    private static void refused(Op op, Shape[] in, boolean[] batched) {
        assertThrows(InvalidInputException.class, () -> op.outputShape(in, batched));
    }

    @Test
    void badShapesAndAttributesAreRefused() {
        boolean[] xx = {true, true}, xp = {true, false}, pp = {false, false};
        refused(MatMul.INSTANCE, new Shape[] {Shape.of(3, 4), Shape.of(5, 2)}, xx);
        refused(MatMul.INSTANCE, new Shape[] {Shape.of(4), Shape.of(4, 2)}, xx);
        refused(MatMul.INSTANCE, new Shape[] {Shape.of(2, 3, 4), Shape.of(3, 4, 2)}, xx);
        refused(MatMul.INSTANCE, new Shape[] {Shape.of(3, 4), Shape.of(2, 4, 2)}, xp);
        refused(MatMul.INSTANCE, new Shape[] {Shape.of(3, 4), Shape.of(4, 2)}, pp);
        refused(new Permute(0, 0), new Shape[] {Shape.of(3, 4)}, new boolean[] {true});
        refused(new Permute(0, 2), new Shape[] {Shape.of(3, 4)}, new boolean[] {true});
        refused(new Permute(1, 0), new Shape[] {Shape.of(3, 4, 2)}, new boolean[] {true});
        refused(new Softmax(2), new Shape[] {Shape.of(3, 4)}, new boolean[] {true});
        refused(new Softmax(-3), new Shape[] {Shape.of(3, 4)}, new boolean[] {true});
        refused(new LayerNorm(new int[] {4}, 1e-5), new Shape[] {Shape.of(3, 5)}, new boolean[] {true});
        refused(new LayerNorm(new int[] {2, 3, 4}, 1e-5), new Shape[] {Shape.of(3, 4)}, new boolean[] {true});
        refused(new LayerNorm(new int[] {5}, 1e-5), new Shape[] {Shape.of(3, 5), Shape.of(4)}, xp);
        refused(new LayerNorm(new int[] {5}, 1e-5), new Shape[] {Shape.of(3, 5), Shape.of(5)}, xx);
        assertThrows(InvalidInputException.class, () -> new LayerNorm(new int[] {5}, 0));
        assertThrows(InvalidInputException.class, () -> new LayerNorm(new int[0], 1e-5));
        assertThrows(InvalidInputException.class, () -> new Permute());
    }
}
