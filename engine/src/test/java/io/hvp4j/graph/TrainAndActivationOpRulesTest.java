package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.ParametricActivation;
import io.hvp4j.autodiff.SmoothActivation;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.graph.ops.Activation;
import io.hvp4j.graph.ops.BatchNormTrain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * BatchNorm in train mode (batch statistics; the harness's 3 samples are coupled, and every rule is checked against
 * finite differences of the whole batch) and the activations beyond the MLP set, through {@link OpRulesHarness}.
 */
class TrainAndActivationOpRulesTest extends OpRulesHarness {
    static Stream<Arguments> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(c("batchnorm-train", new BatchNormTrain(1e-5), Shape.of(3, 2, 2), "x", Shape.of(3), "p", Shape.of(3), "p"));
        cs.add(c("batchnorm1d-train", new BatchNormTrain(1e-3), Shape.of(4), "x", Shape.of(4), "p", Shape.of(4), "p"));
        cs.add(c("batchnorm-train-const-affine", new BatchNormTrain(1e-5), Shape.of(2, 1, 3), "x", Shape.of(2), "const",
                Shape.of(2), "const"));
        List<ElementwiseFunction> fs = new ArrayList<>(List.of(SmoothActivation.values()));
        fs.add(ParametricActivation.elu(1));
        fs.add(ParametricActivation.elu(0.5));
        fs.add(ParametricActivation.leakyRelu(0.2));
        for (ElementwiseFunction f : fs) {
            cs.add(c("act-" + f.id(), new Activation(f), Shape.of(2, 3), "x"));
        }
        return onBothBackends(cs);
    }

    @Test
    void badInputsAreRefused() {
        BatchNormTrain bn = new BatchNormTrain(1e-5);
        assertThrows(InvalidInputException.class, () -> new BatchNormTrain(0));
        assertThrows(InvalidInputException.class, () -> bn.outputShape(new Shape[] {Shape.of(3, 2), Shape.of(2),
                Shape.of(3)}, new boolean[] {true, false, false}));
        assertThrows(InvalidInputException.class, () -> bn.outputShape(new Shape[] {Shape.of(3, 2), Shape.of(3)},
                new boolean[] {true, false}));
    }
}
