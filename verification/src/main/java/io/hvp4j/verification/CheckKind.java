package io.hvp4j.verification;

/** Whether a claim must hold ({@code HARD}) or is only measured and reported ({@code SOFT}). */
public enum CheckKind {
  /** Must hold exactly or within the stated tolerance; a failure fails {@code hvp4j verify}. */
  HARD,
  /** Reported with its measured value beside the expectation; never fails the run. */
  SOFT
}
