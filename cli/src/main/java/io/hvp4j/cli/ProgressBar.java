package io.hvp4j.cli;

import io.hvp4j.Progress;
import java.io.Console;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, redrawn in place at most four times a second, with the elapsed time and
 * a linear estimate of the time left. Only drawn when stderr is a terminal ({@link #forTerminal}); piped or
 * redirected output stays free of it.
 */
final class ProgressBar implements Progress {
    private static final int WIDTH = 30;
    private final PrintWriter err;
    private final String what;
    private final String unit;
    private final long start = System.nanoTime();
    private long last;
    private boolean shown;

    ProgressBar(PrintWriter err, String what, String unit) {
        this.err = err;
        this.what = what;
        this.unit = unit;
    }

    /**
     * A bar for {@code what} when the process has a terminal (System.console() is one; the launcher keeps
     * stderr on it), else {@link Progress#NONE}.
     */
    static Progress forTerminal(PrintWriter err, String what, String unit) {
        Console console = System.console();
        return console != null && console.isTerminal() ? new ProgressBar(err, what, unit) : Progress.NONE;
    }

    @Override
    public void update(long done, long total) {
        long now = System.nanoTime();
        if (done < total && now - last < 250_000_000L) {
            return;
        }
        last = now;
        err.print("\r" + line(done, total, (now - start) / 1e9) + "   ");
        err.flush();
        shown = true;
    }

    /** The bar's text, e.g. {@code hvp4j: H [#####.....] 120/400 columns 30% 0:12 elapsed, ~0:28 left}. */
    String line(long done, long total, double seconds) {
        double f = total <= 0 ? 1 : Math.min(1, (double) done / total);
        int filled = (int) Math.round(f * WIDTH);
        String eta = done > 0 && done < total ? ", ~" + clock(seconds * (total - done) / done) + " left" : "";
        return String.format(Locale.ROOT, "hvp4j: %s [%s%s] %d/%d %s %3.0f%% %s elapsed%s", what,
                "#".repeat(filled), ".".repeat(WIDTH - filled), done, total, unit, 100 * f, clock(seconds), eta);
    }

    /** A duration for messages: {@code 0.25 s}, {@code 42 s}, {@code 3:07}, {@code 26:40:00}. */
    static String duration(double seconds) {
        return seconds < 60 ? String.format(Locale.ROOT, "%.2g s", seconds) : clock(seconds);
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** Replaces the bar by a status line for the next phase. */
    static void status(Progress p, String next) {
        if (p instanceof ProgressBar b) {
            b.err.print("\r" + String.format(Locale.ROOT, "%-100s", "hvp4j: " + b.what + ": " + next + " ..."));
            b.err.flush();
            b.shown = true;
        }
    }

    /** Erases the bar (if one was drawn). */
    static void clear(Progress p) {
        if (p instanceof ProgressBar b && b.shown) {
            b.err.print("\r" + " ".repeat(110) + "\r");
            b.err.flush();
        }
    }
}
