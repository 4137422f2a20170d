package io.hvp4j.verification.cnn;

import io.hvp4j.data.Dataset;
import io.hvp4j.io.Idx;
import io.hvp4j.memory.DType;
import io.hvp4j.verification.experiments.Experiment;
import io.hvp4j.verification.sbh.SweepData;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The images of the CNN training checks: the first {@code n} Fashion-MNIST training images (the directory of
 * {@link SweepData#files}) scaled to [0, 1] and nearest-resized to {@code side×side}, 10 classes; without the
 * data set, 10 Gaussian clusters in {@code side²} dimensions (centres of norm 3, unit noise) as a stand-in, which
 * {@link #what} says. Split into train and test by alternate rows.
 *
 * @param train even rows
 * @param test odd rows
 * @param what one line for the report
 */
public record ImageData(Dataset train, Dataset test, String what) {

  /** Loads or generates {@code n} samples (even n) into {@code ex}'s arena. */
  public static ImageData load(Experiment ex, int n, int side, long seed) {
    Path[] idx = SweepData.files();
    Dataset all;
    String what;
    if (idx != null) {
      all = Idx.classification(idx[0], idx[1], n, side * side, 10, ex.arena(), DType.F64);
      what = String.format(Locale.ROOT, "Fashion-MNIST %s (first %d images, /255, nearest-resized to %dx%d)",
          idx[0].getParent(), n, side, side);
    } else {
      all = ex.clusters(10, side * side, 3, n / 10, seed);
      what = String.format(Locale.ROOT, "no Fashion-MNIST installed: 10 Gaussian clusters in d=%d, %d points",
          side * side, n);
    }
    return new ImageData(ex.rows(all, 0, 2, "train"), ex.rows(all, 1, 2, "test"), what + ", " + n / 2
        + " train / " + n / 2 + " test");
  }
}
