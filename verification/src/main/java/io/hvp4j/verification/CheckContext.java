package io.hvp4j.verification;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * What a check may use while it runs.
 *
 * @param mode {@link Mode#QUICK} (small sizes, every hard check in minutes) or {@link Mode#FULL} (sweeps, training)
 * @param reportDirectory where plots go, or {@code null} when no report is written (then checks draw no plots)
 * @param threads worker threads for the products (results are bitwise reproducible for a fixed count)
 * @param progress one-line progress messages (may be a no-op)
 * @param svg write the plots as SVG instead of PNG ({@link #plotPath} swaps the extension)
 */
public record CheckContext(Mode mode, Path reportDirectory, int threads, Consumer<String> progress, boolean svg) {

  /** Size of the run. */
  public enum Mode {
    QUICK,
    FULL
  }

  public CheckContext {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(progress, "progress");
    if (threads < 1) throw new IllegalArgumentException("threads must be positive");
  }

  /** PNG plots. */
  public CheckContext(Mode mode, Path reportDirectory, int threads, Consumer<String> progress) {
    this(mode, reportDirectory, threads, progress, false);
  }

  /** Quick mode, no report, one thread, silent: what the JUnit tests use. */
  public static CheckContext quickForTests() {
    return new CheckContext(Mode.QUICK, null, 1, s -> {});
  }

  /** True in {@link Mode#FULL}. */
  public boolean full() {
    return mode == Mode.FULL;
  }

  /**
   * A path for a plot named {@code fileName} (ending in .png) inside the report folder, with .svg instead when
   * {@link #svg}, or {@code null} without a report.
   */
  public Path plotPath(String fileName) {
    if (reportDirectory == null) return null;
    String name = svg && fileName.endsWith(".png") ? fileName.substring(0, fileName.length() - 4) + ".svg" : fileName;
    return reportDirectory.resolve(name);
  }
}
