package io.hvp4j.verification;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of one named claim.
 *
 * @param id the spec's id (S1…S11, G1…G8, K1…K10)
 * @param paper where the claim comes from
 * @param kind hard or soft
 * @param claim one line: what is claimed
 * @param configuration the networks/data/sizes it was measured on (one line)
 * @param measured the measured value(s), as a short string
 * @param expected the expected value(s) or rule, as a short string
 * @param status pass, fail or report
 * @param details further lines for the report (e.g. one per grid point); may be empty
 * @param plots plot files written for this check; may be empty
 * @param seconds wall time of the check
 */
public record CheckResult(
    String id,
    Paper paper,
    CheckKind kind,
    String claim,
    String configuration,
    String measured,
    String expected,
    CheckStatus status,
    List<String> details,
    List<Path> plots,
    double seconds) {

  public CheckResult {
    Objects.requireNonNull(id);
    Objects.requireNonNull(paper);
    Objects.requireNonNull(kind);
    Objects.requireNonNull(status);
    details = List.copyOf(details);
    plots = List.copyOf(plots);
    if (kind == CheckKind.SOFT && status == CheckStatus.PASS) {
      status = CheckStatus.REPORT;
    }
  }

  /** True when this result should make {@code hvp4j verify} exit non-zero. */
  public boolean failed() {
    return status == CheckStatus.FAIL;
  }
}
