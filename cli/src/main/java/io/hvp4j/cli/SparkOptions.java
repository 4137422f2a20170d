package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import picocli.CommandLine.Option;

/** {@code --spark MASTER} and {@code --partitions P} (a picocli mixin of the commands that run on Spark). */
public final class SparkOptions {
    @Option(names = "--spark", paramLabel = "MASTER",
            description = "Compute the products on Apache Spark: local[N] (this JVM, N task threads) or"
                    + " spark://HOST:PORT (a standalone cluster). Products are sums over data partitions computed"
                    + " on executors; the algorithm runs here. Needs the hvp4j-spark jar and Spark on the class path"
                    + " (./hvp4j adds them). --data gaussian:N is then generated per partition (README, Spark).")
    String master;

    @Option(names = "--partitions", paramLabel = "P",
            description = "With --spark: data partitions (tasks per product); each takes whole batches. Default: 1"
                    + " for local[N] (one engine with N threads), else Spark's default parallelism.")
    Integer partitions;

    /** Partitions asked for, 0 for the default; checks the pair. */
    int partitionCount() {
        if (partitions == null) {
            return 0;
        }
        if (master == null) {
            throw new InvalidInputException("--partitions needs --spark MASTER");
        }
        if (partitions < 1) {
            throw new InvalidInputException("--partitions must be positive, got " + partitions);
        }
        return partitions;
    }
}
