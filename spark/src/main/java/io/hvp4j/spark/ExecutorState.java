package io.hvp4j.spark;

import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.Objective;

import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one executor JVM keeps between tasks: per model one {@link Worker} (a backend and its engines, built once and
 * reused by every task; tasks on the same model take turns), the partitions' rows it has read, and the data sets
 * its loaders opened. Lives as long as the JVM (or until {@link #forget}).
 */
final class ExecutorState {
    /** Engines built in this JVM (for tests: reuse means this stays at one per model and batch size). */
    static final AtomicInteger ENGINES_BUILT = new AtomicInteger();

    private static final Map<String, Worker> WORKERS = new ConcurrentHashMap<>();
    private static final Map<String, Held> PARTITIONS = new ConcurrentHashMap<>();
    private static final Map<String, Held> OPENED = new ConcurrentHashMap<>();

    private ExecutorState() {
    }

    /** A data set and the arena that holds it. */
    private record Held(Arena arena, Dataset data) {
    }

    static Worker worker(Model model) {
        return WORKERS.computeIfAbsent(model.key(), k -> new Worker(model));
    }

    /** The rows of partition {@code p} (read once per JVM), validated as the single-machine objective would. */
    static Dataset partition(DataSource source, int p, int from, int count, DType dtype, Loss loss) {
        String key = source.key() + " " + dtype + " p" + p + " [" + from + "+" + count + ")";
        return PARTITIONS.computeIfAbsent(key, k -> {
            Arena arena = Arena.ofShared();
            try {
                Dataset d = source.rows(p, from, count, arena, dtype);
                if (loss == Loss.CE) {
                    Dataset.requireProbabilities(d.targets(), source.key() + " partition " + p + " targets");
                }
                return new Held(arena, d);
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }).data();
    }

    /** The whole data set of {@code source}, opened once per JVM (mapped or streamed by its loader). */
    static Dataset opened(DataSource.Opened source, DType dtype) {
        return OPENED.computeIfAbsent(source.key() + " " + dtype, k -> {
            Arena arena = Arena.ofShared();
            try {
                return new Held(arena, source.loader().open(arena, dtype));
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }).data();
    }

    /** Drops the rows read for {@code source} (its partitions and its opened set). */
    static void forget(String sourceKey) {
        for (Map<String, Held> m : java.util.List.of(PARTITIONS, OPENED)) {
            for (String k : java.util.List.copyOf(m.keySet())) {
                Held h = k.startsWith(sourceKey + " ") ? m.remove(k) : null;
                if (h != null) { // removed by this call only: two tasks may forget the same set at once
                    h.arena().close();
                }
            }
        }
    }

    /**
     * One model's engines in this JVM: one objective per batch row count (a data set's last batch may be shorter),
     * each over staging rows that tasks fill with their batch. Callers hold the worker's lock.
     */
    static final class Worker {
        private final Model model;
        private final Backend backend;
        private final Map<Integer, Engine> byRows = new HashMap<>();

        Worker(Model model) {
            this.model = model;
            this.backend = model.backend();
        }

        /**
         * The engine for batches of {@code rows} rows and blocks of {@code maxBlock} vectors, built when missing (or
         * when only a smaller block was built) with {@code first}'s rows staged.
         */
        Engine engine(int rows, int maxBlock, Dataset first, int from, String stageKey) {
            Engine e = byRows.get(rows);
            if (e != null && e.objective.maxBlock() >= maxBlock) {
                return e;
            }
            if (e != null) {
                e.close();
                byRows.remove(rows);
            }
            e = new Engine(model, backend, rows, maxBlock, first, from, stageKey);
            byRows.put(rows, e);
            ENGINES_BUILT.incrementAndGet();
            return e;
        }
    }

    /** One single-machine objective over staging rows, with what it currently holds. */
    static final class Engine {
        private final Arena arena = Arena.ofShared();
        private final Tensor x;
        private final Tensor y;
        final Objective objective;
        /** The batch in the staging rows (data key, partition, offset), or null when unknown. */
        String staged;
        /** Which parameters are set (objective id and setting), or null. */
        String parameters;
        /** The driver-side invalidation the primal pass is newer than. */
        String epoch = "";

        Engine(Model model, Backend backend, int rows, int maxBlock, Dataset first, int from, String stageKey) {
            try {
                x = Tensor.allocate(arena, model.dtype(), rows, first.inputDimension());
                y = Tensor.allocate(arena, model.dtype(), rows, first.outputDimension());
                copy(first, from);
                objective = model.objective(new Dataset(x, y, "staged rows"), backend, arena, rows, maxBlock);
                staged = stageKey;
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }

        private void copy(Dataset part, int from) {
            part.copyInputs(from, x);
            y.copyFrom(part.targets().rowSlice(from, y.rows()));
        }

        /**
         * Makes the staging rows hold rows {@code [from, from + rows)} of {@code part}; the primal pass is recomputed
         * only when they changed.
         */
        void stage(Dataset part, int from, String stageKey) {
            if (stageKey.equals(staged)) {
                return;
            }
            staged = null; // a failure half-way leaves the rows unknown
            copy(part, from);
            objective.invalidate();
            staged = stageKey;
        }

        void close() {
            objective.close();
            arena.close();
        }
    }
}
