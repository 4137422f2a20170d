package io.hvp4j.spark;

import java.util.List;
import java.util.Locale;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The Spark settings hvp4j needs on JDK 25: the module opens Spark's serializers and memory code use, the Vector API
 * and native access for the engine on executors, no {@code sun.misc.Unsafe} warning, and for a local master or one
 * on 127.0.0.1 the driver bound to loopback (else Spark picks the machine's external interface).
 */
public final class SparkSetup {
    /** The {@code --add-opens} every JVM of the job needs (master, workers, driver, executors). */
    public static final List<String> OPENS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED");

    /** JVM options of a JVM that runs the engine under Spark: the opens, the Vector API, FFM, quiet Unsafe. */
    public static final String JAVA_OPTIONS = String.join(" ", OPENS)
            + " --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
            + " --sun-misc-unsafe-memory-access=allow";

    private SparkSetup() {
    }

    /** Whether {@code master} runs on this machine only: {@code local}, {@code local[N]}, or a master on loopback. */
    public static boolean loopback(String master) {
        String m = master.trim().toLowerCase(Locale.ROOT);
        return m.startsWith("local") || m.startsWith("spark://127.0.0.1:") || m.startsWith("spark://localhost:");
    }

    /**
     * A configuration for {@code master} with the settings above (keeping any the caller or {@code spark-submit} set):
     * executor JVM options, no web UI and no console progress bar, task results as large as the products need.
     */
    public static SparkConf conf(String master, String appName) {
        SparkConf c = new SparkConf().setMaster(master).setAppName(appName);
        if (loopback(master)) {
            c.setIfMissing("spark.driver.host", "127.0.0.1");
            c.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        }
        String extra = c.get("spark.executor.extraJavaOptions", "");
        if (!extra.contains("jdk.incubator.vector")) {
            c.set("spark.executor.extraJavaOptions", (extra + " " + JAVA_OPTIONS).trim());
        }
        c.setIfMissing("spark.ui.enabled", "false");
        c.setIfMissing("spark.ui.showConsoleProgress", "false");
        c.setIfMissing("spark.driver.maxResultSize", "0"); // a partition's product is P·k doubles
        return c;
    }

    /** Starts a context on {@code conf}, logging errors only. */
    public static JavaSparkContext start(SparkConf conf) {
        JavaSparkContext sc = new JavaSparkContext(conf);
        sc.setLogLevel("ERROR");
        return sc;
    }
}
