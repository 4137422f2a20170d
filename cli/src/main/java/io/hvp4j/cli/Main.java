package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code hvp4j} command. {@link #run} is the whole program without {@code System.exit}, for tests.
 *
 * <p>Exit codes: 0 success; 1 a check failed ({@code selfcheck}) or the Spark cluster cannot be reached; 2 bad usage or bad input (one line
 * {@code hvp4j: error: ...} on stderr, no output file); 3 a resource limit (memory); 4 an internal error (one
 * line; the stack trace with {@code --verbose}).
 */
@Command(name = "hvp4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        subcommands = {InfoCommand.class, HvpCommand.class, GradCommand.class, SelfcheckCommand.class, RankCommand.class,
                SpectrumCommand.class, TraceCommand.class, EigsCommand.class, BenchCommand.class, VerifyCommand.class,
                TrainCommand.class},
        description = {
            "Exact Hessian-vector products (and Gauss-Newton / functional parts) of MLP losses, by"
                    + " forward-over-reverse differentiation on the JDK Vector API.",
            "Commands: info, hvp, grad, selfcheck, rank, spectrum, trace, eigs, bench, verify, train."
                    + " 'hvp4j COMMAND --help' describes each.",
            "Exit codes: 0 ok, 1 a check failed or no Spark cluster, 2 bad usage or input, 3 resource limit, 4 internal error."})
public final class Main implements Callable<Integer> {
    public static final int OK = 0;
    public static final int CHECK_FAILED = 1;
    public static final int BAD_INPUT = 2;
    public static final int RESOURCES = 3;
    public static final int INTERNAL = 4;
    static final String FALLBACK_VERSION = "0.1.0-SNAPSHOT";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command (see hvp4j --help)");
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.err.flush();
        System.exit(code);
    }

    /** Runs the command line; returns the exit code. Writes results to {@code out} and errors to {@code err}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        PrintWriter o = new PrintWriter(out, true);
        PrintWriter e = new PrintWriter(err, true);
        boolean verbose = Arrays.asList(args).contains("--verbose");
        configureLogging(verbose);
        try {
            CommandLine cl = new CommandLine(new Main());
            cl.setOverwrittenOptionsAllowed(true); // the last occurrence of an option wins
            cl.setOut(o);
            cl.setErr(e);
            cl.setParameterExceptionHandler((ex, a) -> {
                e.println("hvp4j: error: " + oneLine(ex.getMessage()));
                e.flush();
                return BAD_INPUT;
            });
            cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> report(ex, verbose, e));
            return cl.execute(args);
        } catch (Throwable t) {
            return report(t, verbose, e);
        } finally {
            o.flush();
            e.flush();
        }
    }

    /**
     * Configures the SLF4J simple binding (stderr): warnings only by default, debug with {@code --verbose}.
     * Properties already set (e.g. {@code JAVA_OPTS=-Dorg.slf4j.simpleLogger.defaultLogLevel=info}) win. The
     * binding reads them once per JVM, at the first logger.
     */
    static void configureLogging(boolean verbose) {
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
        setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
        setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
        setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
        setIfAbsent("org.slf4j.simpleLogger.showDateTime", verbose ? "true" : "false");
        setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** One line on stderr for {@code t}; returns its exit code. */
    static int report(Throwable t, boolean verbose, PrintWriter err) {
        Throwable c = t;
        while ((c instanceof picocli.CommandLine.ExecutionException
                || c instanceof java.util.concurrent.ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        int code;
        if (c instanceof InvalidInputException) {
            err.println("hvp4j: error: " + oneLine(c.getMessage()));
            code = BAD_INPUT;
        } else if (c instanceof ParameterException) {
            err.println("hvp4j: error: " + oneLine(c.getMessage()));
            code = BAD_INPUT;
        } else if (c instanceof Distributed.UnreachableException) {
            err.println("hvp4j: error: " + oneLine(c.getMessage()));
            code = CHECK_FAILED;
        } else if (c instanceof Problem.ResourceLimitException) {
            err.println("hvp4j: error: " + oneLine(c.getMessage()));
            code = RESOURCES;
        } else if (c instanceof OutOfMemoryError) {
            // Off-heap (FFM) memory is not bounded by -XX:MaxDirectMemorySize, so only the heap has a JVM knob.
            String m = c.getMessage() == null ? "" : c.getMessage();
            boolean heap = m.contains("Java heap") || m.contains("GC overhead");
            err.println("hvp4j: error: out of memory (" + oneLine(m) + "); try a smaller --batch-size or fewer"
                    + " vectors" + (heap ? ", or a larger Java heap via JAVA_OPTS=-Xmx... (the default is a quarter"
                    + " of the machine's memory)" : ""));
            code = RESOURCES;
        } else {
            err.println("hvp4j: internal error: " + c.getClass().getName()
                    + (c.getMessage() == null ? "" : ": " + oneLine(c.getMessage()))
                    + (verbose ? "" : " (run with --verbose for the stack trace)"));
            code = INTERNAL;
        }
        if (verbose && code != BAD_INPUT) {
            c.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    static String oneLine(String s) {
        if (s == null) {
            return "(no message)";
        }
        return s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }

    /** Checks that {@code out} can be created: an existing directory to put it in, and not a directory itself. */
    static void requireWritable(Path out, String option) {
        if (out.toString().isBlank()) {
            throw new InvalidInputException(option + ": the file name is empty");
        }
        Path abs = out.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw new InvalidInputException(option + " " + out + ": is a directory");
        }
        Path dir = abs.getParent();
        if (dir != null && Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new InvalidInputException(option + " " + out + ": " + dir + " is a file, not a directory");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new InvalidInputException(option + " " + out + ": directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new InvalidInputException(option + " " + out + ": directory " + dir + " is not writable");
        }
        if (Files.isRegularFile(abs, java.nio.file.LinkOption.NOFOLLOW_LINKS) || !Files.exists(abs,
                java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            // isWritable says yes to root everywhere (/sys, /proc); creating a file is the real test, before the work.
            Path probe;
            try {
                probe = Files.createTempFile(dir, ".hvp4j-probe-", ".tmp");
            } catch (java.io.IOException | SecurityException e) {
                String why = e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                        : e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                        : e instanceof java.nio.file.NoSuchFileException ? "the file system refuses new files"
                        : e.getClass().getSimpleName();
                throw new InvalidInputException(option + " " + out + ": cannot create a file in " + dir + " (" + why
                        + ")");
            }
            try {
                Files.delete(probe);
            } catch (java.io.IOException e) {
                probe.toFile().deleteOnExit(); // created but not deletable now: the directory is writable anyway
            }
        }
    }

    /** The engine needs the incubating Vector API module at run time (also for the scalar backend). */
    static void requireVectorModule() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new InvalidInputException("the JVM was started without --add-modules jdk.incubator.vector"
                    + " (use the ./hvp4j launcher)");
        }
    }

    /** {@code --version}: the program version, the JVM and the vector shape. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage() == null ? null : Main.class.getPackage().getImplementationVersion();
            String vector;
            try {
                vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                        ? "Vector API " + io.hvp4j.backend.vector.VectorBackend.vectorShape()
                        : "Vector API not enabled";
            } catch (Throwable t) {
                vector = "Vector API unavailable";
            }
            return new String[] {
                "hvp4j " + (v == null ? FALLBACK_VERSION : v),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), " + vector + ", "
                        + Runtime.getRuntime().availableProcessors() + " processors"};
        }
    }
}
