package io.hvp4j.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hvp4j.verification.segdb.*;
import org.junit.jupiter.api.Test;

/** Every G check in QUICK mode: hard checks must pass, soft ones must report. */
class SegdbChecksTest {
  static CheckResult run(Check c) throws Exception {
    CheckResult r = c.run(CheckContext.quickForTests());
    CheckStatus want = c.kind() == CheckKind.HARD ? CheckStatus.PASS : CheckStatus.REPORT;
    assertEquals(
        want,
        r.status(),
        () -> r.id() + ": " + r.measured() + " vs " + r.expected() + "\n" + String.join("\n", r.details()));
    System.out.printf("%s %.1fs %s | %s%n", r.id(), r.seconds(), r.measured(), String.join("; ", r.details()));
    return r;
  }

  @Test
  void g1() throws Exception {
    run(new G1GaussNewtonPsd());
  }

  @Test
  void g2() throws Exception {
    run(new G2GaussNewtonRank());
  }

  @Test
  void g3() throws Exception {
    run(new G3GaussNewtonSplit());
  }

  @Test
  void g4() throws Exception {
    run(new G4ResidualPart());
  }

  @Test
  void g5() throws Exception {
    run(new G5OutlierCount());
  }

  @Test
  void g6() throws Exception {
    run(new G6BulkScaling());
  }

  @Test
  void g7() throws Exception {
    run(new G7SmallNegativeEigenvalues());
  }

  @Test
  void g8() throws Exception {
    run(new G8LargeSmallBatchLine());
  }
}
