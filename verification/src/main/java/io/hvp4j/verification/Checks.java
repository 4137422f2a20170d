package io.hvp4j.verification;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The registry of every check, in report order (S…, G…, K…). Add a new check here. */
public final class Checks {

  private Checks() {}

  /** Every check, in report order. */
  public static List<Check> all() {
    List<Check> checks = new ArrayList<>();
    // Singh, Bachmann, Hofmann 2021 (S1…S11; S12 soft, S13 the §A.9 sweeps, S14 residual rank)
    checks.addAll(io.hvp4j.verification.sbh.SbhChecks.all());
    // Sagun et al. 2017 (G1…G8)
    checks.add(new io.hvp4j.verification.segdb.G1GaussNewtonPsd());
    checks.add(new io.hvp4j.verification.segdb.G2GaussNewtonRank());
    checks.add(new io.hvp4j.verification.segdb.G3GaussNewtonSplit());
    checks.add(new io.hvp4j.verification.segdb.G4ResidualPart());
    checks.add(new io.hvp4j.verification.segdb.G5OutlierCount());
    checks.add(new io.hvp4j.verification.segdb.G6BulkScaling());
    checks.add(new io.hvp4j.verification.segdb.G7SmallNegativeEigenvalues());
    checks.add(new io.hvp4j.verification.segdb.G8LargeSmallBatchLine());
    // Sankar et al. 2021 (K1…K10)
    checks.add(new io.hvp4j.verification.skvb.K1LayerTracesSum());
    checks.add(new io.hvp4j.verification.skvb.K2HutchinsonTrace());
    checks.add(new io.hvp4j.verification.skvb.K3LayerTraceIsGaussNewton());
    checks.add(new io.hvp4j.verification.skvb.K4PowerIteration());
    checks.add(new io.hvp4j.verification.skvb.K5HtrGradient());
    checks.add(new io.hvp4j.verification.skvb.K6LanczosQuadrature());
    checks.add(new io.hvp4j.verification.skvb.K7LogDensityDistance());
    checks.add(new io.hvp4j.verification.skvb.K8MiddleLayerSimilarity());
    checks.add(new io.hvp4j.verification.skvb.K9CurvatureDuringTraining());
    checks.add(new io.hvp4j.verification.skvb.K10HtrComparison());
    // Sankar et al. 2021 on CNNs (K8, K9, K10 where the paper made them: LeNet-5, VGG-11-bn on Fashion-MNIST)
    checks.add(new io.hvp4j.verification.cnn.K11CnnMiddleLayerSimilarity());
    checks.add(new io.hvp4j.verification.cnn.K12CnnCurvatureDuringTraining());
    checks.add(new io.hvp4j.verification.cnn.K13CnnHtrComparison());
    // Singh, Hofmann, Schölkopf 2023: CNN Hessian ranks (C1, C2)
    checks.add(new io.hvp4j.verification.cnn.C1CnnRanks());
    checks.add(new io.hvp4j.verification.cnn.C2ChannelSweep());
    // Yao et al. 2020 (PyHessian): BatchNorm / residual ablation (P1)
    checks.add(new io.hvp4j.verification.cnn.P1ResidualBatchNormAblation());
    return List.copyOf(checks);
  }

  /** The checks with the given ids, in report order; an unknown id is an {@link IllegalArgumentException}. */
  public static List<Check> select(List<String> ids) {
    Map<String, Check> byId = new LinkedHashMap<>();
    for (Check c : all()) byId.put(c.id(), c);
    for (String id : ids) {
      if (!byId.containsKey(id)) {
        throw new IllegalArgumentException("unknown check '" + id + "'; known: " + String.join(",", byId.keySet()));
      }
    }
    List<Check> out = new ArrayList<>();
    for (Check c : all()) if (ids.contains(c.id())) out.add(c);
    return out;
  }
}
