package io.hvp4j.graph;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.graph.ops.Add;
import io.hvp4j.graph.ops.BatchNormEval;
import io.hvp4j.graph.ops.Conv2d;
import io.hvp4j.graph.ops.Linear;
import io.hvp4j.graph.ops.Pool2d;
import io.hvp4j.graph.ops.Reshape;
import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The first op set (layers, pooling, eval BatchNorm, activations, Add, Flatten) through {@link OpRulesHarness}. */
class OpRulesTest extends OpRulesHarness {
    static Stream<Arguments> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(c("linear", Linear.INSTANCE, Shape.of(5), "x", Shape.of(4, 5), "p", Shape.of(4), "p"));
        cs.add(c("linear-nobias", Linear.INSTANCE, Shape.of(5), "x", Shape.of(3, 5), "p"));
        cs.add(c("linear-seq", Linear.INSTANCE, Shape.of(3, 5), "x", Shape.of(4, 5), "p", Shape.of(4), "p"));
        for (Activation a : Activation.values()) {
            cs.add(c("act-" + a.id(), new io.hvp4j.graph.ops.Activation(a), Shape.of(2, 3), "x"));
        }
        cs.add(c("add", Add.INSTANCE, Shape.of(2, 3), "x", Shape.of(2, 3), "x"));
        cs.add(c("add-param", Add.INSTANCE, Shape.of(6), "x", Shape.of(6), "p"));
        cs.add(c("flatten", new Reshape(null), Shape.of(2, 2, 3), "x"));
        cs.add(c("conv", new Conv2d(1, 0, 1, 1), Shape.of(2, 5, 6), "x", Shape.of(3, 2, 3, 3), "p", Shape.of(3), "p"));
        cs.add(c("conv-stride-pad", new Conv2d(2, 1, 1, 1), Shape.of(2, 5, 6), "x", Shape.of(3, 2, 3, 3), "p"));
        cs.add(c("conv-dilation", new Conv2d(1, 2, 2, 1), Shape.of(1, 5, 5), "x", Shape.of(2, 1, 3, 3), "p", Shape.of(2), "p"));
        cs.add(c("conv-groups", new Conv2d(1, 1, 1, 2), Shape.of(4, 4, 4), "x", Shape.of(6, 2, 3, 3), "p", Shape.of(6), "p"));
        cs.add(c("conv-depthwise", new Conv2d(1, 1, 1, 3), Shape.of(3, 4, 4), "x", Shape.of(3, 1, 3, 3), "p"));
        cs.add(c("conv1d", Conv2d.conv1d(1, 0, 1, 1), Shape.of(2, 7), "x", Shape.of(3, 2, 3), "p", Shape.of(3), "p"));
        cs.add(c("conv1d-stride-pad-dil", Conv2d.conv1d(2, 2, 2, 1), Shape.of(2, 9), "x", Shape.of(4, 2, 3), "p"));
        cs.add(c("conv1d-groups", Conv2d.conv1d(1, 1, 1, 2), Shape.of(4, 6), "x", Shape.of(2, 2, 3), "p", Shape.of(2), "p"));
        cs.add(c("conv-1x1-stride", new Conv2d(2, 0, 1, 1), Shape.of(3, 5, 5), "x", Shape.of(4, 3, 1, 1), "p"));
        cs.add(c("avgpool", new Pool2d(Pool2d.Mode.AVG, 2, 2, 0), Shape.of(2, 5, 4), "x"));
        cs.add(c("avgpool-pad", new Pool2d(Pool2d.Mode.AVG, 3, 2, 1), Shape.of(2, 5, 4), "x"));
        cs.add(c("maxpool", new Pool2d(Pool2d.Mode.MAX, 2, 2, 0), Shape.of(2, 4, 6), "x"));
        cs.add(c("maxpool-pad", new Pool2d(Pool2d.Mode.MAX, 3, 2, 1), Shape.of(2, 5, 5), "x"));
        cs.add(c("global-avg", Pool2d.globalAverage(), Shape.of(3, 3, 4), "x"));
        cs.add(c("batchnorm", new BatchNormEval(1e-5), Shape.of(3, 2, 2), "x", Shape.of(3), "p", Shape.of(3), "p",
                Shape.of(3), "const", Shape.of(3), "const+"));
        cs.add(c("batchnorm1d", new BatchNormEval(1e-3), Shape.of(4), "x", Shape.of(4), "p", Shape.of(4), "p",
                Shape.of(4), "const", Shape.of(4), "const+"));
        return onBothBackends(cs);
    }

}
