package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.plot.Chart;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** Plot options shared by the commands: path checks before the work, one clear error when writing fails. */
final class Plots {
    private Plots() {
    }

    /** Checks that {@code path} ends in .png or .svg and that its folder is writable, before any long work. */
    static void requirePlotPath(Path path, String option) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".png") && !name.endsWith(".svg")) {
            throw new InvalidInputException(option + " must end in .png or .svg: " + path);
        }
        Main.requireWritable(path, option);
    }

    /** Writes the chart or fails with an {@link InvalidInputException} naming the file. */
    static void save(Chart chart, Path path) {
        try {
            chart.save(path);
        } catch (IOException | RuntimeException e) {
            throw new InvalidInputException("cannot write plot " + path + ": " + e.getMessage(), e);
        }
    }
}
