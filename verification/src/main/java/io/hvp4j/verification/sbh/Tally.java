package io.hvp4j.verification.sbh;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Grid points of one check and their outcome, with report lines and plots. */
final class Tally {
  final List<String> details = new ArrayList<>();
  final List<Path> plots = new ArrayList<>();
  int points;
  int passed;
  /** Overrides the default "passed/points" measured text. */
  String measured;
  String expected = "";

  /** One grid point: its outcome and a line for the report. */
  void record(boolean ok, String line) {
    points++;
    if (ok) passed++;
    details.add((ok ? "ok    " : "FAIL  ") + line);
  }

  /** A line for the report that is not a grid point. */
  void note(String line) {
    details.add("      " + line);
  }
}
