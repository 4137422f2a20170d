package io.hvp4j.verification;

/**
 * One claim of the seed papers, checked by computing it. Implementations are stateless; {@link #run} may be called
 * from any thread but checks are run one at a time (each uses the context's thread count for its products).
 */
public interface Check {

  /** The spec's id, e.g. {@code "S1"}. */
  String id();

  Paper paper();

  CheckKind kind();

  /** One line: what is claimed. */
  String claim();

  /**
   * Measures the claim. A hard check returns {@link CheckStatus#PASS} or {@link CheckStatus#FAIL}; a soft check
   * returns {@link CheckStatus#REPORT}. An exception means the check could not be computed and is reported as a
   * failure by the runner.
   */
  CheckResult run(CheckContext context) throws Exception;
}
