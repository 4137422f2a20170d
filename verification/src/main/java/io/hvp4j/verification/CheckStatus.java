package io.hvp4j.verification;

/** Outcome of one check. Soft checks end in {@code REPORT} (or {@code FAIL} only if they could not be computed). */
public enum CheckStatus {
  PASS,
  FAIL,
  REPORT
}
