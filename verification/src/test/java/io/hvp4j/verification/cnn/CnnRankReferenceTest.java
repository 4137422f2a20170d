package io.hvp4j.verification.cnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.io.Npy;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * C1's nets against an independent PyTorch float64 computation ({@code benchmarks/peers/cnn_rank_peer.py}: the nets
 * written with torch.nn.functional, H by autograd, H_O from the output Jacobian): the dense H and H_O agree entry
 * by entry to 1e-10 of their largest entry (both are exact up to rounding, about 1e-15 here), and the numerical
 * ranks of H, H_O and H_F (numpy's matrix_rank against ours, both σ_max·p·ε) are equal. Skips when
 * {@code /usr/bin/python3} with torch is missing.
 */
class CnnRankReferenceTest {
  static final String PYTHON = "/usr/bin/python3";

  static boolean torchAvailable() {
    try {
      Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
      return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  static String json(CnnSpec s) {
    StringBuilder sb = new StringBuilder("{\"name\": \"" + s.name() + "\", \"spatial\": " + s.spatial() + ", \"input\": [");
    for (int i = 0; i < s.input().length; i++) sb.append(i == 0 ? "" : ", ").append(s.input()[i]);
    sb.append("], \"channels\": [");
    for (int i = 0; i < s.channels().length; i++) sb.append(i == 0 ? "" : ", ").append(s.channels()[i]);
    return sb.append(String.format(Locale.ROOT, "], \"kernel\": %d, \"act\": \"%s\", \"classes\": %d, \"loss\": \"%s\"}",
        s.kernel(), s.act().name().toLowerCase(Locale.ROOT), s.classes(), s.loss().name().toLowerCase(Locale.ROOT)))
        .toString();
  }

  @Test
  void ranksAndMatricesEqualPyTorch(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(torchAvailable(), "skipped: " + PYTHON + " with torch is not installed");
    List<CnnSpec> grid = C1CnnRanks.grid(false);
    List<CnnCurvature> nets = new ArrayList<>();
    try {
      List<String> cases = new ArrayList<>();
      for (CnnSpec s : grid) {
        CnnCurvature c = new CnnCurvature(s, 1);
        nets.add(c);
        cases.add(json(s));
        double[] theta = c.theta();
        Npy.write(dir.resolve(s.name() + ".theta.npy"), theta, new long[] {theta.length}, DType.F64);
        Npy.write(dir.resolve(s.name() + ".x.npy"), c.data().inputs(), false);
        Npy.write(dir.resolve(s.name() + ".y.npy"), c.data().targets(), false);
      }
      Files.writeString(dir.resolve("cases.json"), "[" + String.join(",\n", cases) + "]");
      Process p = new ProcessBuilder(PYTHON, Path.of("..", "benchmarks", "peers", "cnn_rank_peer.py").toString(),
          dir.toString()).redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes());
      assertTrue(p.waitFor(300, TimeUnit.SECONDS), "cnn_rank_peer.py timed out");
      assertEquals(0, p.exitValue(), log);
      String ranks = Files.readString(dir.resolve("ranks.json"));
      try (Arena arena = Arena.ofConfined()) {
        for (int i = 0; i < grid.size(); i++) {
          CnnSpec s = grid.get(i);
          CnnCurvature c = nets.get(i);
          for (String[] m : new String[][] {{"H", "HESSIAN"}, {"HO", "GAUSS_NEWTON"}}) {
            Tensor ref = Npy.readMatrix(dir.resolve(s.name() + "." + m[0] + ".npy"), arena, DType.F64, m[0]);
            double[][] ours = c.matrix(Curvature.valueOf(m[1]));
            double max = 0, diff = 0;
            for (int r = 0; r < ours.length; r++) {
              for (int q = 0; q < ours.length; q++) {
                max = Math.max(max, Math.abs(ref.get(r, q)));
                diff = Math.max(diff, Math.abs(ref.get(r, q) - ours[r][q]));
              }
            }
            assertTrue(diff <= 1e-10 * max, s.name() + " " + m[0] + ": max difference " + diff + " of " + max);
          }
          for (String[] m : new String[][] {{"H", "HESSIAN"}, {"HO", "GAUSS_NEWTON"}, {"HF", "FUNCTIONAL"}}) {
            Matcher mt = Pattern.compile("\"" + Pattern.quote(s.name()) + "\": \\{[^}]*\"" + m[0] + "\": (\\d+)")
                .matcher(ranks);
            assertTrue(mt.find(), "no " + m[0] + " rank for " + s.name() + " in " + ranks);
            assertEquals(Integer.parseInt(mt.group(1)), c.rank(Curvature.valueOf(m[1])).rank(),
                s.name() + " rank " + m[0]);
          }
        }
      }
    } finally {
      for (CnnCurvature c : nets) c.close();
    }
  }
}
