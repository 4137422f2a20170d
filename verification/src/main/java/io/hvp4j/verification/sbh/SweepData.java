package io.hvp4j.verification.sbh;

import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.io.Idx;
import io.hvp4j.memory.DType;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Inputs for the §A.9 sweeps: the first N training images of an IDX data set preprocessed as the authors' code
 * (scaled to [0, 1], nearest-neighbour resized to √d × √d, flattened; one-hot labels, K = 10), or synthetic
 * Gaussian data when none is installed. The directory is {@value #DIR_PROPERTY} / {@value #DIR_ENV} when set, else
 * Debian's Fashion-MNIST ({@value #DEFAULT_DIR}); it must hold {@code train-images-idx3-ubyte[.gz]} and
 * {@code train-labels-idx1-ubyte[.gz]}.
 */
public final class SweepData {
  static final String DIR_PROPERTY = "hvp4j.idx.dir";
  static final String DIR_ENV = "HVP4J_IDX_DIR";
  static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";

  private SweepData() {}

  /** The image and label files, or null when absent. */
  public static Path[] files() {
    String dir = System.getProperty(DIR_PROPERTY);
    if (dir == null || dir.isBlank()) dir = System.getenv(DIR_ENV);
    if (dir == null || dir.isBlank()) dir = DEFAULT_DIR;
    Path images = find(Path.of(dir), "train-images-idx3-ubyte"), labels = find(Path.of(dir), "train-labels-idx1-ubyte");
    return images == null || labels == null ? null : new Path[] {images, labels};
  }

  private static Path find(Path dir, String stem) {
    for (String name : new String[] {stem + ".gz", stem}) {
      Path p = dir.resolve(name);
      if (Files.isRegularFile(p)) return p;
    }
    return null;
  }

  /** N samples of dimension d (a perfect square for real data) with K = 10 outputs for {@code loss}. */
  static Dataset load(Arena arena, int n, int d, Loss loss, long seed) {
    Path[] f = files();
    if (f != null) return Idx.classification(f[0], f[1], n, d, 10, arena, DType.F64);
    return NetSpec.linear(loss, n, d, seed, d, 10).data(arena);
  }

  /** "Fashion-MNIST (…)" or "synthetic Gaussian" for the report. */
  static String describe() {
    Path[] f = files();
    return f == null ? "synthetic Gaussian inputs (no IDX data found in " + DEFAULT_DIR + ")"
        : "IDX images " + f[0] + " (scaled to [0,1], nearest resize, first N)";
  }
}
