package io.hvp4j.cli;

import io.hvp4j.autodiff.Loss;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.Objective;

import java.io.Serializable;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ServiceLoader;

/**
 * Data-parallel objectives for {@code --spark MASTER}, implemented by the hvp4j-spark module and found with
 * {@link ServiceLoader}, so that the command line itself needs no Spark. An implementation owns its cluster
 * connection until {@link #close}.
 */
public interface Distributed extends AutoCloseable {
    /** Opens the rows of a data set on an executor (in {@code arena}, in {@code dtype}). */
    @FunctionalInterface
    interface Loader extends Serializable {
        Dataset open(Arena arena, DType dtype);
    }

    /**
     * The data: generated {@code gaussian:N} ({@code loader} null: rows per partition from the seed), or files
     * opened by {@code loader} on each executor; {@code key} names the source, {@code size} is N.
     */
    record Data(String key, int size, long seed, Loader loader) {
    }

    /**
     * What to compute: an MLP ({@code mlp}) or a built-in graph ({@code graphName}, {@code graphWeights} or null),
     * the loss, the data, the parameters, rows per batch (0: one batch per partition), the most vectors per product,
     * executor threads (0: all), partitions (0: the default).
     */
    record Request(String master, int partitions, Mlp mlp, String graphName, Path graphWeights, Loss loss,
                   Loss.Reduction reduction, DType dtype, int threads, Data data, int batchRows, int maxBlock,
                   Tensor theta) {
    }

    /** An objective with the request's parameters set; closed by the caller (before this). */
    Objective objective(Request request);

    @Override
    void close();

    /** The cluster cannot be reached (exit code 1). */
    final class UnreachableException extends RuntimeException {
        public UnreachableException(String message) {
            super(message);
        }
    }

    /** The implementation on the class path. */
    static Distributed load() {
        return ServiceLoader.load(Distributed.class).findFirst().orElseThrow(() -> new io.hvp4j.InvalidInputException(
                "--spark needs the hvp4j-spark jar and Apache Spark on the class path (the ./hvp4j launcher adds"
                        + " them; with spark-submit use spark/target/hvp4j-spark.jar)"));
    }
}
