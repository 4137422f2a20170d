package io.hvp4j.verification;

import io.hvp4j.verification.cnn.*;
import org.junit.jupiter.api.Test;

/** The CNN checks (C…, P…) in QUICK mode: hard checks must pass, soft ones must report. */
class CnnChecksTest {
  @Test
  void c1() throws Exception {
    SegdbChecksTest.run(new C1CnnRanks());
  }

  @Test
  void c2() throws Exception {
    SegdbChecksTest.run(new C2ChannelSweep());
  }

  @Test
  void k11() throws Exception {
    SegdbChecksTest.run(new K11CnnMiddleLayerSimilarity());
  }

  @Test
  void k12() throws Exception {
    SegdbChecksTest.run(new K12CnnCurvatureDuringTraining());
  }

  @Test
  void k13() throws Exception {
    SegdbChecksTest.run(new K13CnnHtrComparison());
  }

  @Test
  void p1() throws Exception {
    SegdbChecksTest.run(new P1ResidualBatchNormAblation());
  }
}
