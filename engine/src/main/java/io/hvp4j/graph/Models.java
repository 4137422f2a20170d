package io.hvp4j.graph;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.graph.Graph.Value;

import java.util.Locale;

/**
 * Built-in networks, named and ordered as the PyTorch modules of {@code benchmarks/peers/pytorch_peer.py}, so that
 * parameter vectors agree with {@code parameters_to_vector(model.parameters())}.
 */
public final class Models {
    private Models() {
    }

    /** The names {@link #byName} knows. */
    public static final String NAMES = "lenet5, resnet8, resnet8-nobn, resnet8-noskip";

    /**
     * A built-in network by name.
     *
     * @param name    one of {@link #NAMES}
     * @param classes outputs
     * @return the graph
     * @throws InvalidInputException for an unknown name
     */
    public static Graph byName(String name, int classes) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "lenet5" -> lenet5(classes);
            case "resnet8" -> resnet8(16, classes, true, true);
            case "resnet8-nobn" -> resnet8(16, classes, false, true);
            case "resnet8-noskip" -> resnet8(16, classes, true, false);
            default -> throw new InvalidInputException("unknown model '" + name + "'; built-in models: " + NAMES);
        };
    }

    /**
     * LeNet-5 on {@code 1×28×28}: {@code conv1} 6@5×5 (padding 2), tanh, 2×2 average pooling, {@code conv2} 16@5×5,
     * tanh, 2×2 average pooling, flatten (400), {@code fc1} 120, tanh, {@code fc2} 84, tanh, {@code fc3} classes.
     * 61,706 parameters for 10 classes.
     *
     * @param classes outputs
     * @return the graph
     */
    public static Graph lenet5(int classes) {
        GraphBuilder b = new GraphBuilder();
        Value h = b.input("x", 1, 28, 28);
        h = b.avgPool2d(b.activation(b.conv2d("conv1", h, 6, 5, 1, 2, 1, 1, true), Activation.TANH), 2, 2);
        h = b.avgPool2d(b.activation(b.conv2d("conv2", h, 16, 5, 1, 0, 1, 1, true), Activation.TANH), 2, 2);
        h = b.flatten(h);
        h = b.activation(b.linear("fc1", h, 120, true), Activation.TANH);
        h = b.activation(b.linear("fc2", h, 84, true), Activation.TANH);
        return b.build(b.linear("fc3", h, classes, true));
    }

    /**
     * A ResNet-8-style network on {@code 3×32×32} with {@code width} channels: stem {@code conv1} 3×3 (no bias),
     * {@code bn1} (eval), relu; three residual blocks {@code layers.i} of {@code conv1}-{@code bn1}-relu-{@code conv2}-
     * {@code bn2}, added to the block input, relu; global average pooling; linear head {@code fc}. Without
     * {@code batchNorm} the convolutions have biases and no BatchNorm; without {@code skip} the adds are dropped (the
     * PyHessian ablation). 14,650 parameters with width 16, BatchNorm and 10 classes.
     *
     * @param width     channels of every convolution
     * @param classes   outputs
     * @param batchNorm whether there are BatchNorm layers
     * @param skip      whether there are residual adds
     * @return the graph
     */
    public static Graph resnet8(int width, int classes, boolean batchNorm, boolean skip) {
        return resnet8(3, 32, width, classes, batchNorm, skip, false);
    }

    /**
     * {@link #resnet8(int, int, boolean, boolean)} on {@code channels×side×side} inputs (Fashion-MNIST: 1 channel),
     * with the BatchNorm layers in train mode ({@link GraphBuilder#batchNormTrain}: the batch's statistics, samples
     * coupled, as a PyTorch model in {@code train()}) when {@code trainModeBatchNorm}, else in eval mode (running
     * statistics 0 and 1 until loaded). The parameters are the same in both modes.
     *
     * @param channels           input channels
     * @param side               input height and width
     * @param width              channels of every convolution
     * @param classes            outputs
     * @param batchNorm          whether there are BatchNorm layers
     * @param skip               whether there are residual adds
     * @param trainModeBatchNorm BatchNorm with the batch's statistics (else eval mode)
     * @return the graph
     */
    public static Graph resnet8(int channels, int side, int width, int classes, boolean batchNorm, boolean skip,
                                boolean trainModeBatchNorm) {
        GraphBuilder b = new GraphBuilder();
        Value h = b.input("x", channels, side, side);
        int bn = !batchNorm ? 0 : trainModeBatchNorm ? 2 : 1;
        h = b.activation(convBn(b, "conv1", "bn1", h, width, bn), Activation.RELU);
        for (int i = 0; i < 3; i++) {
            String p = "layers." + i + ".";
            Value r = b.activation(convBn(b, p + "conv1", p + "bn1", h, width, bn), Activation.RELU);
            r = convBn(b, p + "conv2", p + "bn2", r, width, bn);
            h = b.activation(skip ? b.add(r, h) : r, Activation.RELU);
        }
        h = b.flatten(b.globalAvgPool(h));
        return b.build(b.linear("fc", h, classes, true));
    }

    /** A 3×3 convolution and BatchNorm: {@code bn} 0 none (the convolution gets a bias), 1 eval, 2 train mode. */
    private static Value convBn(GraphBuilder b, String conv, String bn, Value x, int width, int mode) {
        Value c = b.conv2d(conv, x, width, 3, 1, 1, 1, 1, mode == 0);
        return switch (mode) {
            case 0 -> c;
            case 1 -> b.batchNorm(bn, c, 1e-5, null, null);
            default -> b.batchNormTrain(bn, c, 1e-5);
        };
    }
}
