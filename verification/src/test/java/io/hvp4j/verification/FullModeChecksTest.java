package io.hvp4j.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The G and K checks in FULL mode (longer training, more seeds and sizes), with plots: {@code mvn verify -Pslow}. */
@Tag("slow")
class FullModeChecksTest {
  @ParameterizedTest
  @ValueSource(strings = {"G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "K1", "K2", "K3", "K4", "K5", "K6", "K7",
      "K8", "K9", "K10", "K11", "K12", "K13", "C1", "C2", "P1"})
  void fullMode(String id, @TempDir Path dir) throws Exception {
    Check c = Checks.select(java.util.List.of(id)).get(0);
    CheckResult r = c.run(new CheckContext(CheckContext.Mode.FULL, dir, 2, s -> {}));
    System.out.printf("%s FULL %.1fs %s | %s%n", r.id(), r.seconds(), r.measured(), String.join("; ", r.details()));
    assertEquals(c.kind() == CheckKind.HARD ? CheckStatus.PASS : CheckStatus.REPORT, r.status(),
        () -> r.id() + ": " + r.measured() + "\n" + String.join("\n", r.details()));
    for (Path p : r.plots()) {
      assertEquals(true, java.nio.file.Files.size(p) > 1000, p.toString());
    }
  }
}
