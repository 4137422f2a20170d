package io.hvp4j.verification.sbh;

import io.hvp4j.verification.Check;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.CheckResult;
import io.hvp4j.verification.CheckStatus;
import io.hvp4j.verification.Paper;

/** Common parts of the [SBH] checks: the paper, and the tally of grid points that becomes a {@link CheckResult}. */
abstract class SbhCheck implements Check {
  /** The relative tolerance of the spec's exact identities (S6, S7): measured values are about 1e-16. */
  static final double RELATIVE = 1e-10;

  private final String id;
  private final String claim;

  SbhCheck(String id, String claim) {
    this.id = id;
    this.claim = claim;
  }

  @Override
  public final String id() {
    return id;
  }

  @Override
  public final String claim() {
    return claim;
  }

  @Override
  public Paper paper() {
    return Paper.SBH;
  }

  @Override
  public CheckKind kind() {
    return CheckKind.HARD;
  }

  @Override
  public final CheckResult run(CheckContext context) throws Exception {
    long t0 = System.nanoTime();
    Tally t = new Tally();
    String configuration = measure(context, t);
    CheckStatus status = kind() == CheckKind.SOFT ? CheckStatus.REPORT
        : t.points > 0 && t.passed == t.points ? CheckStatus.PASS : CheckStatus.FAIL;
    return new CheckResult(id(), paper(), kind(), claim(), configuration,
        t.measured != null ? t.measured : t.passed + "/" + t.points + " points as expected",
        t.expected, status, t.details, t.plots, (System.nanoTime() - t0) / 1e9);
  }

  /** Runs the measurements into {@code tally}; returns the one-line configuration. */
  abstract String measure(CheckContext context, Tally tally) throws Exception;
}
