package io.hvp4j.verification.cnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.data.Dataset;
import io.hvp4j.io.Npy;
import io.hvp4j.memory.DType;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.PowerIteration;
import io.hvp4j.verification.experiments.Experiment;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * P1's top eigenvalue against an independent PyTorch power iteration ({@code benchmarks/peers/pyhessian_peer.py},
 * double-backward HVPs on graph_peer's ResNet8 in train mode): at the point P1 trains to in quick mode, on its
 * Hessian batch, both iterated to a relative change ≤ 1e-12, the values agree to 1e-6 relative (the issue's
 * requirement; measured about 1e-13) and the losses to 1e-12. Skips without {@code /usr/bin/python3} and torch.
 * Tagged slow (minutes: up to 2000 power iterations on each side): {@code mvn -B -q verify -Pslow}.
 */
@Tag("slow")
class PyHessianPeerTest {
  @ParameterizedTest
  @ValueSource(strings = {"resnet8", "resnet8-nobn", "resnet8-noskip"})
  void topEigenvalueEqualsPyTorch(String variant, @TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(CnnRankReferenceTest.torchAvailable(),
        "skipped: " + CnnRankReferenceTest.PYTHON + " with torch is not installed");
    P1ResidualBatchNormAblation.Sizes s = P1ResidualBatchNormAblation.sizes(false);
    try (Experiment ex = new Experiment(2)) {
      P1ResidualBatchNormAblation.Point pt = P1ResidualBatchNormAblation.train(variant, s, ex);
      Dataset hb = pt.hessianBatch();
      double ours, loss;
      try (GraphObjective f = GraphTraining.objective(ex, pt.graph(), hb, pt.theta(), 1)) {
        loss = f.loss();
        ours = PowerIteration.compute(Operators.curvature(f, Curvature.HESSIAN, (ParameterGroup) null), 1, 2000,
            1e-12, 1).pairs().get(0).value();
      }
      double[] theta = pt.theta();
      Npy.write(dir.resolve("theta.npy"), theta, new long[] {theta.length}, DType.F64);
      Npy.write(dir.resolve("x.npy"), hb.inputs(), false);
      long[] labels = new long[hb.size()];
      for (int i = 0; i < labels.length; i++) {
        for (int c = 0; c < hb.outputDimension(); c++) if (hb.targets().get(i, c) > 0.5) labels[i] = c;
      }
      Npy.write(dir.resolve("labels.npy"), labels, new long[] {labels.length});
      Process p = new ProcessBuilder(CnnRankReferenceTest.PYTHON,
          Path.of("..", "benchmarks", "peers", "pyhessian_peer.py").toString(), dir.toString(), "--variant", variant,
          "--width", Integer.toString(s.width()), "--side", Integer.toString(s.side()))
          .redirectErrorStream(true).start();
      String outText = new String(p.getInputStream().readAllBytes());
      assertTrue(p.waitFor(300, TimeUnit.SECONDS), "pyhessian_peer.py timed out");
      assertEquals(0, p.exitValue(), outText);
      double theirs = number(outText, "lambda"), theirLoss = number(outText, "loss");
      System.out.printf("P1 peer %s: hvp4j %.15g, PyTorch %.15g, rel. diff %.2e; loss %.15g vs %.15g%n", variant, ours,
          theirs, Math.abs(ours - theirs) / Math.abs(theirs), loss, theirLoss);
      assertEquals(theirLoss, loss, 1e-12 * Math.abs(theirLoss), "loss");
      assertEquals(theirs, ours, 1e-6 * Math.abs(theirs), "top eigenvalue (power iteration)");
    }
  }

  static double number(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": ([-0-9.eE+]+)").matcher(json);
    assertTrue(m.find(), "no " + key + " in " + json);
    return Double.parseDouble(m.group(1));
  }
}
