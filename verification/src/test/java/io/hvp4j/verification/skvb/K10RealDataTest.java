package io.hvp4j.verification.skvb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckResult;
import io.hvp4j.verification.CheckStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** K10 takes IDX data when a directory of it is configured (here: small files written by the test). */
class K10RealDataTest {
  static void writeIdx(Path dir) throws IOException {
    int n = 400;
    SplittableRandom rng = new SplittableRandom(1);
    ByteBuffer img = ByteBuffer.allocate(16 + n * 28 * 28).putInt(0x803).putInt(n).putInt(28).putInt(28);
    ByteBuffer lab = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
    for (int i = 0; i < n; i++) {
      int label = i % 10;
      lab.put((byte) label);
      for (int p = 0; p < 28 * 28; p++) {
        // A class-dependent stripe plus noise, so that the classes can be learned.
        int v = (p / 28) % 10 == label ? 200 : 20;
        img.put((byte) Math.min(255, v + rng.nextInt(40)));
      }
    }
    Files.write(dir.resolve("train-images-idx3-ubyte"), img.array());
    Files.write(dir.resolve("train-labels-idx1-ubyte"), lab.array());
  }

  @Test
  void runsOnIdxDataWhenInstalled(@TempDir Path dir) throws Exception {
    writeIdx(dir);
    System.setProperty("hvp4j.idx.dir", dir.toString());
    try {
      CheckResult r = new K10HtrComparison().run(CheckContext.quickForTests());
      assertEquals(CheckStatus.REPORT, r.status(), r.measured());
      assertTrue(r.configuration().startsWith("IDX images " + dir), r.configuration());
      assertTrue(r.configuration().contains("64-32-32-10"), r.configuration());
    } finally {
      System.clearProperty("hvp4j.idx.dir");
    }
  }
}
