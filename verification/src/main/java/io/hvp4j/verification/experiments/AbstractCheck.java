package io.hvp4j.verification.experiments;

import io.hvp4j.verification.Check;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.CheckResult;
import io.hvp4j.verification.CheckStatus;
import io.hvp4j.verification.Paper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A check with fixed id, paper, kind and claim; subclasses implement {@link #measure}, filling an {@link Outcome}.
 * The wall time is measured here.
 */
public abstract class AbstractCheck implements Check {
  private final String id;
  private final Paper paper;
  private final CheckKind kind;
  private final String claim;

  protected AbstractCheck(String id, Paper paper, CheckKind kind, String claim) {
    this.id = id;
    this.paper = paper;
    this.kind = kind;
    this.claim = claim;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Paper paper() {
    return paper;
  }

  @Override
  public CheckKind kind() {
    return kind;
  }

  @Override
  public String claim() {
    return claim;
  }

  /** What a measurement produced. {@code passed} is ignored for soft checks (they report). */
  public static final class Outcome {
    public String configuration = "";
    public String measured = "";
    public String expected = "";
    public boolean passed = true;
    public final List<String> details = new ArrayList<>();
    public final List<Path> plots = new ArrayList<>();

    /** Adds a detail line (String.format, root locale). */
    public void detail(String format, Object... args) {
      details.add(String.format(Locale.ROOT, format, args));
    }
  }

  /** Measures the claim into {@code out}. */
  protected abstract void measure(CheckContext context, Outcome out) throws Exception;

  @Override
  public final CheckResult run(CheckContext context) throws Exception {
    long t0 = System.nanoTime();
    Outcome o = new Outcome();
    measure(context, o);
    CheckStatus status =
        kind == CheckKind.SOFT
            ? CheckStatus.REPORT
            : (o.passed ? CheckStatus.PASS : CheckStatus.FAIL);
    return new CheckResult(
        id,
        paper,
        kind,
        claim,
        o.configuration,
        o.measured,
        o.expected,
        status,
        o.details,
        o.plots,
        (System.nanoTime() - t0) / 1e9);
  }

  /** {@code %.3g} in the root locale. */
  public static String g(double x) {
    return String.format(Locale.ROOT, "%.3g", x);
  }
}
