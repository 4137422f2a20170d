package io.hvp4j.verification;

import io.hvp4j.verification.skvb.*;
import org.junit.jupiter.api.Test;

/** Every K check in QUICK mode: hard checks must pass, soft ones must report. */
class SkvbChecksTest {
  @Test
  void k1() throws Exception {
    SegdbChecksTest.run(new K1LayerTracesSum());
  }

  @Test
  void k2() throws Exception {
    SegdbChecksTest.run(new K2HutchinsonTrace());
  }

  @Test
  void k3() throws Exception {
    SegdbChecksTest.run(new K3LayerTraceIsGaussNewton());
  }

  @Test
  void k4() throws Exception {
    SegdbChecksTest.run(new K4PowerIteration());
  }

  @Test
  void k5() throws Exception {
    SegdbChecksTest.run(new K5HtrGradient());
  }

  @Test
  void k6() throws Exception {
    SegdbChecksTest.run(new K6LanczosQuadrature());
  }

  @Test
  void k7() throws Exception {
    SegdbChecksTest.run(new K7LogDensityDistance());
  }

  @Test
  void k8() throws Exception {
    SegdbChecksTest.run(new K8MiddleLayerSimilarity());
  }

  @Test
  void k9() throws Exception {
    SegdbChecksTest.run(new K9CurvatureDuringTraining());
  }

  @Test
  void k10() throws Exception {
    SegdbChecksTest.run(new K10HtrComparison());
  }
}
