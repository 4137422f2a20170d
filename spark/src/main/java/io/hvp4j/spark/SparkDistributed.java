package io.hvp4j.spark;

import io.hvp4j.InvalidInputException;
import io.hvp4j.cli.Distributed;
import io.hvp4j.objective.Objective;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code --spark MASTER} of the command line: one Spark context per run, and a {@link SparkObjective} per request.
 * A local master runs one engine in this JVM with N threads on one partition (unless {@code --partitions}); a
 * cluster master gets this jar shipped to its executors, and Spark's default parallelism as partitions.
 */
public final class SparkDistributed implements Distributed {
    /** How long the master may take to answer, and executors to register. */
    static final int CONNECT_SECONDS = 10;
    static final int EXECUTOR_SECONDS = 60;
    private static final Pattern LOCAL = Pattern.compile("local(\\[(\\*|[0-9]+)(,[0-9]+)?])?");
    private static final Pattern STANDALONE = Pattern.compile("spark://([^:/]+):([0-9]+)");

    private JavaSparkContext sc;
    private String master;

    @Override
    public Objective objective(Request r) {
        Data data = r.data();
        int n = data.size();
        if (r.partitions() > 0 && r.batchRows() > 0 && (n + r.batchRows() - 1) / r.batchRows() < r.partitions()) {
            throw new InvalidInputException("--partitions " + r.partitions() + " needs at least as many batches, but "
                    + n + " rows in --batch-size " + r.batchRows() + " make " + (n + r.batchRows() - 1) / r.batchRows());
        }
        start(r.master());
        Model model = r.mlp() != null ? Model.mlp(r.mlp(), r.loss(), r.dtype(), threads(r))
                : Model.graph(r.graphName(), 10, r.graphWeights(), r.loss(), r.dtype(), threads(r));
        int d = r.mlp() != null ? r.mlp().inputs() : io.hvp4j.graph.Models.byName(r.graphName(), 10).inputSize();
        int k = r.mlp() != null ? r.mlp().outputs() : 10;
        DataSource source = data.loader() == null ? DataSource.gaussian(n, d, k, r.loss(), data.seed())
                : DataSource.files(data.key(), n, d, k, data.loader()::open);
        int partitions = r.partitions() > 0 ? r.partitions() : LOCAL.matcher(master).matches() ? 1
                : sc.defaultParallelism();
        int batch = r.batchRows() > 0 ? r.batchRows() : (n + partitions - 1) / partitions;
        partitions = Math.min(partitions, (n + batch - 1) / batch);
        SparkObjective f = new SparkObjective(sc, model, source, r.reduction(), batch, r.maxBlock(), partitions);
        try {
            f.setParameters(r.theta());
            return f;
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Refuses a master Spark would refuse with a stack trace: local[0], numbers past int, ports past 65535. */
    static void checkMaster(String m, String requested) {
        Matcher local = LOCAL.matcher(m), standalone = STANDALONE.matcher(m);
        if (!local.matches() && !standalone.matches()) {
            throw new InvalidInputException("--spark must be local, local[N], local[*] or spark://HOST:PORT, got '"
                    + requested + "'");
        }
        if (local.matches() && local.group(2) != null && !local.group(2).equals("*")) {
            positive(local.group(2), "the thread count N of local[N]", requested);
        }
        if (local.matches() && local.group(3) != null) {
            positive(local.group(3).substring(1), "the task failures F of local[N,F]", requested);
        }
        if (standalone.matches()) {
            String port = standalone.group(2);
            if (port.length() > 5 || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                throw new InvalidInputException("--spark " + requested + ": the port must be 1..65535");
            }
        }
    }

    private static void positive(String digits, String what, String requested) {
        if (digits.length() > 9 || Integer.parseInt(digits) < 1) {
            throw new InvalidInputException("--spark " + requested + ": " + what + " must be 1.." + 999_999_999);
        }
    }

    /** Executor engine threads: --threads, else N of local[N] (all processors for local[*]), else all. */
    private int threads(Request r) {
        if (r.threads() > 0) {
            return r.threads();
        }
        Matcher m = LOCAL.matcher(master);
        if (m.matches()) {
            return m.group(2) == null ? 1 : m.group(2).equals("*") ? 0 : Integer.parseInt(m.group(2));
        }
        return 0;
    }

    private void start(String requested) {
        if (sc != null) {
            if (!requested.equals(master)) {
                throw new IllegalStateException("one master per run");
            }
            return;
        }
        String m = requested.trim();
        Matcher standalone = STANDALONE.matcher(m);
        checkMaster(m, requested);
        if (!Object.class.getModule().isOpen("java.lang", SparkDistributed.class.getModule())) {
            throw new InvalidInputException("--spark needs the JVM options " + SparkSetup.JAVA_OPTIONS
                    + " (the ./hvp4j launcher sets them)");
        }
        if (standalone.matches()) {
            reachable(m, standalone.group(1), Integer.parseInt(standalone.group(2)));
        }
        SparkConf conf = SparkSetup.conf(m, "hvp4j");
        if (!LOCAL.matcher(m).matches() && !conf.contains("spark.jars")) {
            Path jar = ownJar();
            if (jar == null) {
                throw new InvalidInputException("--spark " + m + " ships hvp4j to the executors as a jar, but hvp4j runs"
                        + " from class directories here; run spark/target/hvp4j-spark.jar");
            }
            conf.setJars(new String[] {jar.toString()});
        }
        master = requested;
        sc = SparkSetup.start(conf);
        if (standalone.matches()) {
            awaitExecutors(m);
        }
    }

    /** One clear error, within {@link #CONNECT_SECONDS}, when nothing listens at the master's address. */
    private static void reachable(String master, String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), CONNECT_SECONDS * 1000);
        } catch (IOException e) {
            throw new UnreachableException("cannot reach the Spark master " + master + " (" + e.getMessage() + ")");
        }
    }

    private void awaitExecutors(String m) {
        long deadline = System.nanoTime() + EXECUTOR_SECONDS * 1_000_000_000L;
        while (sc.sc().getExecutorMemoryStatus().size() < 2) { // the driver's block manager counts too
            if (System.nanoTime() > deadline) {
                close();
                throw new UnreachableException("no executor of " + m + " registered within " + EXECUTOR_SECONDS
                        + " s (are its workers up, with enough memory and cores?)");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for executors", e);
            }
        }
    }

    /** The jar this class was loaded from, or null (class directories). */
    private static Path ownJar() {
        try {
            URI uri = SparkDistributed.class.getProtectionDomain().getCodeSource().getLocation().toURI();
            Path p = Path.of(uri);
            return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jar") ? p : null;
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public void close() {
        if (sc != null) {
            sc.stop();
            sc = null;
        }
    }
}
