package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.io.AtomicFile;
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

    /** Checks a --plot-format value (png or svg) and returns it as a file extension. */
    static String extension(String format, String option) {
        String f = format.trim().toLowerCase(Locale.ROOT);
        if (!f.equals("png") && !f.equals("svg")) {
            throw new InvalidInputException(option + " must be png or svg, got '" + format + "'");
        }
        return f;
    }

    /** The operator as a plot title names it, e.g. "the loss Hessian H". */
    static String operator(Problem p, Curvature c, int layer) {
        String name = switch (c) {
            case HESSIAN -> "the loss Hessian H";
            case GAUSS_NEWTON -> "the Gauss–Newton part H_O";
            case FUNCTIONAL -> "the functional part H_F";
        };
        return layer < 0 ? name : name + " (" + (p.graph != null ? "module " : "layer ") + layer + " block)";
    }

    /** The model and data as a plot subtitle states them: architecture, activation, loss, data, parameter count. */
    static String model(Problem p, ModelOptions o) {
        String data = o.data != null ? o.data : o.inputs != null ? String.valueOf(o.inputs.getFileName()) : "?";
        String net = p.mlp != null
                ? "MLP " + p.mlp.architecture().replace(',', '-') + " (" + p.mlp.activation().id() + ")"
                : "model " + o.modelName;
        return net + ", " + p.loss.id() + " loss, data " + data + " (N = " + p.data.size() + "), P = "
                + p.parameterCount() + (o.weights != null ? ", weights " + o.weights.getFileName() : "");
    }

    /**
     * Writes the chart as the other outputs are written (a temporary file renamed over {@code path}: no partial
     * file is left) or fails with an {@link InvalidInputException} naming the file and the reason.
     */
    static void save(Chart chart, Path path) {
        byte[] bytes;
        try {
            bytes = chart.render(path);
        } catch (IOException | RuntimeException e) {
            throw new InvalidInputException("cannot draw plot " + path + ": " + e.getMessage(), e);
        }
        AtomicFile.write(path, bytes);
    }
}
