package io.hvp4j.verification.sbh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.verification.Check;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.CheckResult;
import io.hvp4j.verification.CheckStatus;
import io.hvp4j.verification.Checks;
import io.hvp4j.verification.Paper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each [SBH] check in quick mode, one test each: a wrong closed form, derivative or rank computation fails the
 * build. The full-mode sweeps are tagged slow.
 */
class SbhChecksTest {

  static CheckResult run(Check c) throws Exception {
    CheckResult r = c.run(CheckContext.quickForTests());
    assertEquals(c.id(), r.id());
    assertEquals(Paper.SBH, r.paper());
    assertTrue(!r.details().isEmpty(), c.id() + " measured nothing");
    CheckStatus expected = c.kind() == CheckKind.HARD ? CheckStatus.PASS : CheckStatus.REPORT;
    assertEquals(expected, r.status(), () -> c.id() + ": " + r.measured() + "\n" + String.join("\n", r.details()));
    return r;
  }

  @Test void s1() throws Exception { assertGrid(run(new S1OuterRank()), 18); }
  @Test void s2() throws Exception { assertGrid(run(new S2FunctionalRank()), 18); }
  @Test void s3() throws Exception { assertGrid(run(new S3HessianRank()), 18); }
  @Test void s4() throws Exception { assertGrid(run(new S4CrossEntropyCosh()), 15); }
  @Test void s5() throws Exception { assertGrid(run(new S5Deficiency()), 14); }
  @Test void s6() throws Exception { assertGrid(run(new S6TraceIdentities()), 7); }
  @Test void s7() throws Exception { assertGrid(run(new S7FunctionalSymmetry()), 6); }

  @Test
  void s8() throws Exception {
    CheckResult r = run(new S8WorkedExamples());
    assertGrid(r, 9 + S8WorkedExamples.QUICK_WIDTHS);
    assertTrue(r.measured().startsWith((27 + 3 * S8WorkedExamples.QUICK_WIDTHS) + "/"), r.measured());
  }

  @Test void s9() throws Exception { assertGrid(run(new S9WidthSweepFormula()), S9WidthSweepFormula.SWEEPS.length + 4); }
  @Test void s10() throws Exception { assertGrid(run(new S10Bias()), 11); }
  @Test void s11() throws Exception { assertGrid(run(new S11ReluBound()), 6); }

  @Test
  void s12IsSoftAndReportsTheLadder() throws Exception {
    CheckResult r = run(new S12NonlinearRanks());
    assertEquals(CheckKind.SOFT, r.kind());
    assertEquals(4, r.details().size());
    assertTrue(r.details().getFirst().contains("1e-02:"), r.details().getFirst());
  }

  @Test
  void s13WritesPlots(@TempDir Path dir) throws Exception {
    CheckResult r = new S13Sweeps().run(new CheckContext(CheckContext.Mode.QUICK, dir, 1, s -> {}));
    assertEquals(CheckStatus.PASS, r.status(), () -> String.join("\n", r.details()));
    assertEquals(4, r.plots().size());
    for (Path p : r.plots()) assertTrue(Files.size(p) > 1000, p.toString());
  }

  @Test void s14() throws Exception { assertGrid(run(new S14ResidualRank()), 5 + 7); }

  @Test
  void registeredInReportOrder() {
    List<String> ids = Checks.all().stream().map(Check::id).filter(s -> s.startsWith("S")).toList();
    assertEquals(List.of("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11", "S12", "S13", "S14"), ids);
  }

  /** Every listed grid point passed, and there were as many as the grid has. */
  static void assertGrid(CheckResult r, int points) {
    assertEquals(points, r.details().stream().filter(s -> s.startsWith("ok") || s.startsWith("FAIL")).count(),
        String.join("\n", r.details()));
  }

  /** One §A.9 point on real images (Fashion-MNIST 4×4, as the depth sweep), when the IDX files are installed. */
  @Test
  void realImagesWhenInstalled() {
    org.junit.jupiter.api.Assumptions.assumeTrue(SweepData.files() != null,
        "no IDX data in " + SweepData.DEFAULT_DIR + " (install dataset-fashion-mnist or set HVP4J_IDX_DIR)");
    try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
      io.hvp4j.data.Dataset images = SweepData.load(arena, 50, 16, io.hvp4j.autodiff.Loss.MSE, 1);
      Tally tally = new Tally();
      S13Sweeps.Point p = S13Sweeps.point(CheckContext.quickForTests(), tally, "depth", 2, new int[] {16, 6, 6, 10},
          50, images);
      assertEquals(1, tally.passed, String.join("\n", tally.details));
      assertTrue(tally.details.getFirst().contains("r="), tally.details.getFirst());
      assertTrue(p.measured()[0] > 0 && p.measured()[0] <= p.p());
    }
  }

  @Tag("slow")
  @Test
  void fullModeSweepsAndStoredEntries(@TempDir Path dir) throws Exception {
    CheckContext full = new CheckContext(CheckContext.Mode.FULL, dir, 2, s -> {});
    for (Check c : List.of(new S8WorkedExamples(), new S13Sweeps())) {
      CheckResult r = c.run(full);
      assertEquals(CheckStatus.PASS, r.status(), () -> c.id() + "\n" + String.join("\n", r.details()));
    }
  }
}
