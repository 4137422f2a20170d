package io.hvp4j.verification.sbh;

import io.hvp4j.verification.Check;
import java.util.List;

/**
 * The checks of Singh, Bachmann, Hofmann 2021 (docs/theory.md §A, §D.1, §D.2), in report order: S1–S11 of §D.1 (hard),
 * S12 the reported non-linear ranks of §D.2 (soft), S13 the §A.9 sweeps with their plots (hard), S14 the rank
 * of H_F against the residual's rank (§D.2 second item, hard).
 */
public final class SbhChecks {
  private SbhChecks() {}

  public static List<Check> all() {
    return List.of(new S1OuterRank(), new S2FunctionalRank(), new S3HessianRank(), new S4CrossEntropyCosh(),
        new S5Deficiency(), new S6TraceIdentities(), new S7FunctionalSymmetry(), new S8WorkedExamples(),
        new S9WidthSweepFormula(), new S10Bias(), new S11ReluBound(), new S12NonlinearRanks(), new S13Sweeps(),
        new S14ResidualRank());
  }
}
