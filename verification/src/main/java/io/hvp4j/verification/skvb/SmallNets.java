package io.hvp4j.verification.skvb;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.verification.experiments.Experiment;
import java.util.ArrayList;
import java.util.List;

/** The small networks of the exact layerwise checks: cluster data, three Linear layers, f64 objectives. */
final class SmallNets {
  private SmallNets() {}

  record Net(String name, MlpObjective f) {}

  static final String CONFIGURATION = "clusters k=3, d=6, sep=2, N=24; 6-8-6-3 MLP; §B.3 init";

  /** One objective per activation × loss. */
  static List<Net> of(Experiment ex, Activation[] acts, Loss[] losses, boolean bias) {
    Dataset data = ex.clusters(3, 6, 2, 8, 41);
    List<Net> out = new ArrayList<>();
    for (Activation act : acts) {
      for (Loss loss : losses) {
        Mlp mlp = new Mlp(new int[] {6, 8, 6, 3}, act, bias);
        double[] theta = Experiment.init(mlp, 43 + act.ordinal());
        out.add(new Net(act.id() + "/" + loss.id(), ex.objective(mlp, loss, data, theta)));
      }
    }
    return out;
  }
}
