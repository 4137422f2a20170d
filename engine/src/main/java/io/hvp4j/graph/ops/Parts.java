package io.hvp4j.graph.ops;

import io.hvp4j.backend.Backend;
import io.hvp4j.memory.Tensor;

/**
 * Splits an op's loop over independent items (images, planes, samples) into contiguous ranges, one per backend
 * thread ({@link Backend#parallel}), for the ops whose work is Java loops or many small GEMMs. Each item's result
 * is computed the same way whatever the split, so outputs do not depend on the thread count unless the op sums
 * over items (it then says so).
 */
final class Parts {
    private Parts() {
    }

    /** The work of one part: items {@code [from, to)}. */
    @FunctionalInterface
    interface Range {
        void run(int part, int from, int to);
    }

    /**
     * How many parts {@code items} items take on {@code be}: its thread count, at most one per item, and one when a
     * touched tensor is confined to the calling thread (its arena is not shared).
     */
    static int count(Backend be, long items, Tensor... touched) {
        for (Tensor t : touched) {
            if (t != null && !t.anyThread()) {
                return 1;
            }
        }
        return (int) Math.max(1, Math.min(be.threads(), items));
    }

    /** Runs {@code body} over {@code items} items in {@code parts} contiguous ranges (part i: {@link #from}). */
    static void run(Backend be, int parts, int items, Range body) {
        if (parts == 1) {
            body.run(0, 0, items);
            return;
        }
        be.parallel(parts, i -> body.run(i, from(items, parts, i), from(items, parts, i + 1)));
    }

    /** Splits over as many parts as {@link #count} allows; returns the number of parts. */
    static int run(Backend be, int items, Range body, Tensor... touched) {
        int parts = count(be, items, touched);
        run(be, parts, items, body);
        return parts;
    }

    /** Start of part {@code i}'s range. */
    static int from(int items, int parts, int i) {
        return (int) ((long) items * i / parts);
    }
}
