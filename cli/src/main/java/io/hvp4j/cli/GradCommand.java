package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.objective.Objective;
import io.hvp4j.memory.Tensor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "grad", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "The loss and its gradient (written as .npy).", sortOptions = false,
        description = {
            "The loss over the whole data set and its gradient (P,), in PyTorch parameters_to_vector order.",
            "Prints one line: loss, P, time in ms, gradient norm."})
final class GradCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--out", paramLabel = "G.npy|G.safetensors",
            description = "Where to write the gradient (atomic): .npy (P,), or with --model .safetensors by"
                    + " parameter name (each in its shape, as PyTorch's p.grad).")
    Path out;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        if (out != null) {
            Main.requireWritable(out, "--out");
            VectorFiles.check(out, model, "--out");
        }
        try (Problem p = Problem.load(model)) {
            // --params: the entries of the matching parameters, in flat order (the block's vectors).
            io.hvp4j.objective.ParameterGroup block = p.block(null, model.params);
            Objective obj = p.anyObjective(1);
            Tensor g = Tensor.allocate(p.arena, p.dtype, p.parameterCount(), 1);
            long t0 = System.nanoTime();
            double loss = obj.gradient(g);
            double ms = (System.nanoTime() - t0) / 1e6;
            double norm = norm(g);
            if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                throw new InvalidInputException("the loss or gradient is not finite (loss " + loss
                        + "); nothing written");
            }
            if (block != null) {
                g = blockEntries(p, block, g);
                norm = norm(g);
            }
            if (out != null) {
                VectorFiles.write(out, p, block, g, true);
            }
            stdout.printf(Locale.ROOT, "grad: loss=%.17g P=%d%s dtype=%s backend=%s threads=%d time=%.3f ms"
                            + " ||g||=%.10g%s%n", loss, p.parameterCount(),
                    block == null ? "" : " block=" + model.params + " (" + block.size() + " params)", p.dtype,
                    p.backend().name(), p.backend().threads(), ms, norm, out == null ? "" : " -> " + out);
            stdout.flush();
            return 0;
        }
    }

    private static double norm(Tensor g) {
        double s = 0;
        for (long i = 0, n = g.size(); i < n; i++) s += g.get(i) * g.get(i);
        return Math.sqrt(s);
    }

    /** The entries of {@code block}'s parameter tensors in {@code full}, concatenated in their flat order. */
    private static Tensor blockEntries(Problem p, io.hvp4j.objective.ParameterGroup block, Tensor full) {
        Tensor g = Tensor.allocate(p.arena, full.dtype(), block.size(), 1);
        long at = 0;
        for (int m : block.members()) {
            long from = p.graph.offset(m), n = p.graph.parameters().get(m).shape().size();
            g.view(at, 1, (int) n).copyFrom(full.view(from, 1, (int) n));
            at += n;
        }
        return g;
    }
}
