package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.spectral.NumericalRank;
import io.hvp4j.spectral.RankReport;
import io.hvp4j.spectral.SymmetricEigen;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "spectrum", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "All eigenvalues of H, H_O or H_F (or a layer block), exactly, as CSV.",
        sortOptions = false,
        description = {
            "Assembles the curvature matrix densely from exact products (float64 storage), symmetrizes it and"
                    + " computes every eigenvalue (LAPACK dsyevd through FFM, or EJML).",
            "Output: CSV with the header 'index,eigenvalue' and one line per eigenvalue in ascending order"
                    + " (index from 0; values printed exactly, shortest round-trip form). Written atomically to"
                    + " --out with a one-line summary on stdout, or to stdout without --out."})
final class SpectrumCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--operator", defaultValue = "hessian", paramLabel = "NAME",
            description = "hessian, ggn (H_O) or functional (H_F). Default: ${DEFAULT-VALUE}.")
    String operator;

    @Option(names = "--layer", paramLabel = "I", description = "The diagonal block of Linear layer I (0-based).")
    Integer layer;

    @Option(names = "--method", defaultValue = "exact", paramLabel = "exact",
            description = "exact (dense). lanczos and slq are not implemented here yet. Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--out", paramLabel = "spectrum.csv", description = "Where to write the CSV (atomic).")
    Path out;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "Checkpoint the dense assembly to FILE; removed after success unless --keep-checkpoint.")
    Path checkpoint;

    @Option(names = "--keep-checkpoint", description = "Keep the (complete) checkpoint file after success.")
    boolean keepCheckpoint;

    @Option(names = "--eigen", paramLabel = "auto|lapack|ejml",
            description = "Eigensolver (see 'hvp4j rank --help'). Default: HVP4J_EIGEN, else auto.")
    String eigen;

    @Option(names = "--block", defaultValue = "" + RankCommand.DEFAULT_BLOCK, paramLabel = "K",
            description = "Columns of the identity per product during assembly. Default: ${DEFAULT-VALUE}.")
    int block;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        RankCommand.requireMethod(method, "exact", List.of("lanczos", "slq"));
        Curvature c = RankCommand.operators(operator, false).get(0);
        SymmetricEigen solver = RankCommand.solver(eigen);
        RankCommand.requireBlock(block);
        if (out != null) {
            Main.requireWritable(out, "--out");
        }
        if (checkpoint != null) {
            Main.requireWritable(checkpoint, "--checkpoint");
        }
        long t0 = System.nanoTime();
        try (Problem p = Problem.load(model)) {
            int layerIndex = RankCommand.layerIndex(p, layer);
            RankCommand.Dense d = RankCommand.denseEigenvalues(p, c, layerIndex, block, solver, checkpoint, err);
            double[] eig = d.eigenvalues();
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (out == null) {
                writeCsv(stdout, eig);
                stdout.flush();
            } else {
                writeAtomically(out, eig);
                RankReport r = NumericalRank.ofEigenvalues(eig, p.dtype, NumericalRank.Tolerance.DEFAULT);
                stdout.printf(Locale.ROOT, "spectrum: P=%d%s operator=%s n=%d min=%.10g max=%.10g rank=%d"
                                + " asymmetry=%.2e eigensolver=%s seconds=%.3f -> %s%n",
                        p.mlp.parameterCount(), layerIndex < 0 ? "" : " layer=" + layerIndex, RankCommand.label(c),
                        eig.length, eig.length == 0 ? Double.NaN : eig[0],
                        eig.length == 0 ? Double.NaN : eig[eig.length - 1], r.rank(), d.asymmetry(), solver.name(),
                        seconds, out);
                stdout.flush();
            }
            if (checkpoint != null && !keepCheckpoint) {
                RankCommand.deleteAll(List.of(checkpoint));
            }
            return 0;
        }
    }

    static void writeCsv(Writer w, double[] eig) {
        PrintWriter pw = w instanceof PrintWriter x ? x : new PrintWriter(w);
        pw.print("index,eigenvalue\n");
        for (int i = 0; i < eig.length; i++) {
            pw.print(i);
            pw.print(',');
            pw.print(Double.toString(eig[i]));
            pw.print('\n');
        }
        pw.flush();
    }

    /** Temporary file in the same directory, fsync, rename. */
    static void writeAtomically(Path file, double[] eig) {
        Path target = file.toAbsolutePath();
        Path tmp = target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + ".tmp");
        try {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                writeCsv(w, eig);
            }
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new InvalidInputException("cannot write --out " + file + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }
}
