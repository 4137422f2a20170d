package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.verification.Check;
import io.hvp4j.verification.CheckContext;
import io.hvp4j.verification.CheckKind;
import io.hvp4j.verification.CheckResult;
import io.hvp4j.verification.CheckStatus;
import io.hvp4j.verification.Checks;
import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hvp4j verify}: runs the verification suite (the registry {@link Checks#all()}) and reports each claim with
 * its measured and expected values. Exit code 0 when every hard check passes, 1 when a hard check fails or any
 * check could not be computed (it threw; reported as a failure with the message), 2 for bad usage.
 */
@Command(name = "verify", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "Checks the seed papers' claims (docs/theory.md §D) by computing them: exact Hessian ranks, spectra,"
                + " traces.",
        sortOptions = false,
        description = {
            "Runs every registered check (or those named by --only) and prints one row per check: id, status"
                    + " (PASS/FAIL for hard checks, REPORT for soft ones), seconds, the claim, the measured and the"
                    + " expected value. --quick (the default) runs every hard check at small sizes; --full runs"
                    + " the larger sweeps and experiments.",
            "--report DIR writes DIR/report.md with every check's configuration and per-point details, and the"
                    + " plots (PNG, or SVG with --plot-format svg) the checks draw, linked from the report.",
            "--json prints exactly one JSON object: {\"checks\": [{\"id\", \"paper\", \"kind\" (hard|soft),"
                    + " \"status\" (pass|fail|report), \"measured\", \"expected\", \"claim\", \"configuration\","
                    + " \"seconds\"}, ...]}.",
            "Exit code: 0 all hard checks pass; 1 a hard check failed or a check could not be computed; 2 bad usage"
                    + " (e.g. an unknown id)."})
final class VerifyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "Small sizes: every hard check in minutes (the default).")
    boolean quick;

    @Option(names = "--full", description = "The full sweeps and experiments (much longer).")
    boolean full;

    @Option(names = "--only", paramLabel = "IDS", split = ",",
            description = "Run only these checks, e.g. S1,S8,G5 (case-insensitive).")
    List<String> only;

    @Option(names = "--report", paramLabel = "DIR",
            description = "Write DIR/report.md and the plots into DIR (created if missing).")
    Path report;

    @Option(names = "--plot-format", defaultValue = "png", paramLabel = "png|svg",
            description = "Format of the report's plots (svg: vector, for papers). Default: ${DEFAULT-VALUE}.")
    String plotFormat = "png";

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Option(names = "--threads", paramLabel = "N",
            description = "Worker threads of the products. Default: all processors.")
    Integer threads;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (quick && full) {
            throw new InvalidInputException("--quick and --full exclude each other");
        }
        CheckContext.Mode mode = full ? CheckContext.Mode.FULL : CheckContext.Mode.QUICK;
        int threadCount = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (threadCount < 1) {
            throw new InvalidInputException("--threads must be positive, got " + threads);
        }
        Plots.extension(plotFormat, "--plot-format");
        List<Check> checks = selected(only);
        Path dir = report == null ? null : reportDirectory(report);
        Console console = System.console();
        return execute(checks, mode, dir, threadCount, console != null && console.isTerminal(), out, err);
    }

    /**
     * Runs {@code checks} and writes the table or JSON to {@code out}, progress to {@code err}, and the report into
     * {@code dir} (may be null); returns the exit code. On a {@code terminal} the progress line is rewritten in place
     * as each check reports its steps; otherwise (a CI log, a pipe) only one line per finished check is written, so
     * that a long run is not silent.
     */
    int execute(List<Check> checks, CheckContext.Mode mode, Path dir, int threadCount, boolean terminal,
                PrintWriter out, PrintWriter err) throws IOException {
        Consumer<String> progress = terminal ? m -> {
            err.print("\r\033[Khvp4j verify: " + m);
            err.flush();
        } : m -> { };
        CheckContext context = new CheckContext(mode, dir, threadCount, progress,
                Plots.extension(plotFormat, "--plot-format").equals("svg"));
        List<CheckResult> results = new ArrayList<>();
        for (Check c : checks) {
            progress.accept(c.id() + " ...");
            CheckResult r = runOne(c, context);
            results.add(r);
            err.printf(Locale.ROOT, "%shvp4j verify: %s %s (%.1f s)%n", terminal ? "\r\033[K" : "", r.id(),
                    r.status(), r.seconds());
            err.flush();
        }
        if (json) {
            out.println(json(results));
        } else {
            table(out, results, mode);
        }
        out.flush();
        if (dir != null) {
            writeReport(dir.resolve("report.md"), results, mode, threadCount);
            if (!json) {
                out.println("report: " + dir.resolve("report.md"));
            }
        }
        return results.stream().anyMatch(VerifyCommand::fails) ? Main.CHECK_FAILED : Main.OK;
    }

    /** A failed hard check, or any check that could not be computed. */
    static boolean fails(CheckResult r) {
        return r.status() == CheckStatus.FAIL;
    }

    /** The checks named by {@code --only} (all when absent); bad names are exit code 2. */
    static List<Check> selected(List<String> ids) {
        if (ids == null) {
            return Checks.all();
        }
        LinkedHashSet<String> wanted = new LinkedHashSet<>();
        for (String id : ids) {
            String t = id.trim().toUpperCase(Locale.ROOT);
            if (t.isEmpty()) {
                throw new InvalidInputException("--only has an empty check id (give e.g. --only S1,S2)");
            }
            wanted.add(t);
        }
        try {
            return Checks.select(List.copyOf(wanted));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("--only: " + e.getMessage(), e);
        }
    }

    private static Path reportDirectory(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new InvalidInputException("--report " + dir + ": exists and is not a directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new InvalidInputException("--report " + dir + ": cannot create the directory (" + e.getMessage()
                    + ")", e);
        }
        if (!Files.isWritable(dir)) {
            throw new InvalidInputException("--report " + dir + ": directory is not writable");
        }
        return dir;
    }

    /** Runs one check; an exception or error becomes a FAIL result carrying its message. */
    static CheckResult runOne(Check c, CheckContext context) {
        long t0 = System.nanoTime();
        try {
            return c.run(context);
        } catch (Exception | OutOfMemoryError | StackOverflowError | LinkageError | AssertionError e) {
            String message = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": "
                    + Main.oneLine(e.getMessage()));
            return new CheckResult(c.id(), c.paper(), c.kind(), c.claim(), "(not computed)",
                    "could not be computed: " + message, "", CheckStatus.FAIL, List.of("exception: " + message),
                    List.of(), (System.nanoTime() - t0) / 1e9);
        }
    }

    // ---------------------------------------------------------------------------------------------- output

    static String kind(CheckKind k) {
        return k.name().toLowerCase(Locale.ROOT);
    }

    static String status(CheckStatus s) {
        return s.name().toLowerCase(Locale.ROOT);
    }

    static String json(List<CheckResult> results) {
        List<Map<String, Object>> checks = new java.util.ArrayList<>();
        for (CheckResult r : results) {
            Map<String, Object> c = new java.util.LinkedHashMap<>();
            c.put("id", r.id());
            c.put("paper", r.paper().name());
            c.put("kind", kind(r.kind()));
            c.put("status", status(r.status()));
            c.put("measured", nonNull(r.measured()));
            c.put("expected", nonNull(r.expected()));
            c.put("claim", nonNull(r.claim()));
            c.put("configuration", nonNull(r.configuration()));
            c.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
            checks.add(c);
        }
        return io.hvp4j.io.Json.write(Map.of("checks", checks));
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }

    static void table(PrintWriter out, List<CheckResult> results, CheckContext.Mode mode) {
        out.printf(Locale.ROOT, "%-5s %-5s %-7s %8s  %s%n", "id", "kind", "status", "seconds", "claim");
        String indent = " ".repeat(30);
        for (CheckResult r : results) {
            out.printf(Locale.ROOT, "%-5s %-5s %-7s %8.1f  %s%n", r.id(), kind(r.kind()), r.status(), r.seconds(),
                    nonNull(r.claim()));
            out.println(indent + "measured: " + nonNull(r.measured()));
            out.println(indent + "expected: " + nonNull(r.expected()));
        }
        out.println(summary(results, mode));
    }

    static String summary(List<CheckResult> results, CheckContext.Mode mode) {
        long hard = results.stream().filter(r -> r.kind() == CheckKind.HARD).count();
        long hardPass = results.stream().filter(r -> r.kind() == CheckKind.HARD && r.status() == CheckStatus.PASS)
                .count();
        long failed = results.stream().filter(VerifyCommand::fails).count();
        long reported = results.stream().filter(r -> r.status() == CheckStatus.REPORT).count();
        double seconds = results.stream().mapToDouble(CheckResult::seconds).sum();
        return String.format(Locale.ROOT, "%d checks (%s): %d/%d hard checks pass, %d failed, %d reported; %.1f s",
                results.size(), mode.name().toLowerCase(Locale.ROOT), hardPass, hard, failed, reported, seconds);
    }

    static void writeReport(Path file, List<CheckResult> results, CheckContext.Mode mode, int threads)
            throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        StringBuilder md = new StringBuilder();
        md.append("# hvp4j verification report\n\n");
        md.append(String.format(Locale.ROOT, "%s, mode `%s`, %d thread(s), Java %s, %d processors.%n%n",
                Instant.now().truncatedTo(ChronoUnit.SECONDS), mode.name().toLowerCase(Locale.ROOT), threads,
                Runtime.version(), Runtime.getRuntime().availableProcessors()));
        md.append(summary(results, mode)).append(".\n\n");
        md.append("| id | paper | kind | status | measured | expected | seconds |\n");
        md.append("|---|---|---|---|---|---|---|\n");
        for (CheckResult r : results) {
            md.append(String.format(Locale.ROOT, "| [%s](#%s) | %s | %s | **%s** | %s | %s | %.1f |%n", r.id(),
                    r.id().toLowerCase(Locale.ROOT), r.paper().name(), kind(r.kind()), r.status(), cell(r.measured()),
                    cell(r.expected()), r.seconds()));
        }
        for (CheckResult r : results) {
            md.append("\n## ").append(r.id()).append("\n\n");
            md.append("**").append(r.status()).append("** (").append(kind(r.kind())).append(", ")
                    .append(r.paper().citation()).append(", ").append(String.format(Locale.ROOT, "%.1f s", r.seconds()))
                    .append(")\n\n");
            md.append("- claim: ").append(nonNull(r.claim())).append('\n');
            md.append("- configuration: ").append(nonNull(r.configuration())).append('\n');
            md.append("- measured: ").append(nonNull(r.measured())).append('\n');
            md.append("- expected: ").append(nonNull(r.expected())).append('\n');
            for (Path plot : r.plots()) {
                Path abs = plot.toAbsolutePath();
                String link = abs.startsWith(dir) ? dir.relativize(abs).toString() : abs.toString();
                md.append("\n![").append(plot.getFileName()).append("](").append(link).append(")\n");
            }
            if (!r.details().isEmpty()) {
                md.append("\n```\n");
                for (String d : r.details()) {
                    md.append(d.replace("```", "'''")).append('\n');
                }
                md.append("```\n");
            }
        }
        Path tmp = dir.resolve(".report.md.tmp");
        Files.writeString(tmp, md.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A markdown table cell: no pipes or line breaks. */
    private static String cell(String s) {
        return nonNull(s).replace("|", "\\|").replace('\n', ' ');
    }
}
