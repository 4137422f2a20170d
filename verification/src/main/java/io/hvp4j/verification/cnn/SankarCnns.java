package io.hvp4j.verification.cnn;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.Graph;
import io.hvp4j.graph.Graph.Value;
import io.hvp4j.graph.GraphBuilder;
import io.hvp4j.graph.Models;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.SymmetricOperator;
import io.hvp4j.verification.experiments.Experiment;
import io.hvp4j.verification.experiments.GraphSgd;
import java.util.ArrayList;
import java.util.List;

/**
 * The CNNs and the protocol of Sankar et al.'s claims on convolutional networks (checks K11–K13): LeNet-5 and a
 * VGG-11-style net with BatchNorm narrowed 16-fold, on Fashion-MNIST ({@link ImageData}, 28×28); SGD
 * (lr 0.01, momentum 0.9, batch 64, seed 401); the Hessian on a fixed class-balanced subset of the training set;
 * the "layers" are the weight tensors of the Conv2d and Linear modules (biases and BatchNorm excluded), as in the
 * official code.
 */
final class SankarCnns {
  private SankarCnns() {}

  /**
   * One network.
   *
   * @param layers the weight tensors' names, input to output
   * @param middle the module the middle-layer HTR probes (weight and bias)
   */
  record Net(String name, Graph graph, List<String> layers, String middle) {}

  static List<Net> nets() {
    return List.of(lenet5(), vgg11());
  }

  static Net lenet5() {
    return new Net("LeNet-5", Models.lenet5(10), List.of("conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight",
        "fc3.weight"), "fc1");
  }

  /** VGG-11 with BatchNorm (train mode), widths 64…512 divided by 16, four 2×2 max-pools on 1×28×28, fc to 10. */
  static Net vgg11() {
    int[] cfg = {4, 0, 8, 0, 16, 16, 0, 32, 32, 0, 32, 32}; // 0: max-pool
    GraphBuilder b = new GraphBuilder();
    Value h = b.input("x", 1, 28, 28);
    List<String> layers = new ArrayList<>();
    int i = 0;
    for (int c : cfg) {
      if (c == 0) {
        h = b.maxPool2d(h, 2, 2, 0);
        continue;
      }
      String m = "features." + i;
      h = b.conv2d(m + ".conv", h, c, 3, 1, 1, 1, 1, true);
      h = b.activation(b.batchNormTrain(m + ".bn", h, 1e-5), Activation.RELU);
      layers.add(m + ".conv.weight");
      i++;
    }
    h = b.linear("classifier", b.flatten(h), 10, true);
    layers.add("classifier.weight");
    return new Net("VGG-11-bn/16", b.build(h), layers, "features.4.conv");
  }

  /** {@code perClass} samples of each class from the start of {@code data} (copied), in class order. */
  static Dataset classBalanced(Experiment ex, Dataset data, int perClass) {
    int k = data.outputDimension();
    int[] taken = new int[k];
    List<Integer> rows = new ArrayList<>();
    for (int i = 0; i < data.size() && rows.size() < k * perClass; i++) {
      int c = 0;
      for (int j = 1; j < k; j++) if (data.targets().get(i, j) > data.targets().get(i, c)) c = j;
      if (taken[c] < perClass) {
        taken[c]++;
        rows.add(i);
      }
    }
    Tensor x = Tensor.allocate(ex.arena(), DType.F64, rows.size(), data.inputDimension());
    Tensor y = Tensor.allocate(ex.arena(), DType.F64, rows.size(), k);
    for (int r = 0; r < rows.size(); r++) {
      x.rowSlice(r, 1).copyFrom(data.inputs().rowSlice(rows.get(r), 1));
      y.rowSlice(r, 1).copyFrom(data.targets().rowSlice(rows.get(r), 1));
    }
    return new Dataset(x, y, perClass + " per class");
  }

  /** The Hessian restricted to weight tensor {@code name}. */
  static SymmetricOperator block(GraphObjective f, String name) {
    return Operators.curvature(f, Curvature.HESSIAN, f.select(name));
  }

  static SymmetricOperator full(GraphObjective f) {
    return Operators.curvature(f, Curvature.HESSIAN, (ParameterGroup) null);
  }

  /** Called after each epoch (0 = the initial point) with the parameters. */
  interface EpochListener {
    void after(int epoch, double[] theta) throws Exception;
  }

  /** Trains {@code net} from its seed-401 initialisation for {@code epochs}, calling {@code listener} (may be null). */
  static double[] train(Experiment ex, Net net, Dataset train, int epochs, GraphSgd.Htr htr, boolean atInit,
      EpochListener listener) throws Exception {
    try (GraphSgd sgd = new GraphSgd(net.graph(), Loss.CE, train, ex.backend(), net.graph().initialParameters(401),
        0.01, 0.9, 64, 402, htr)) {
      if (atInit && listener != null) listener.after(0, sgd.parameters());
      for (int e = 1; e <= epochs; e++) {
        sgd.epoch();
        if (listener != null) listener.after(e, sgd.parameters());
      }
      return sgd.parameters();
    }
  }
}
