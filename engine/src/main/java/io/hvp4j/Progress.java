package io.hvp4j;

/**
 * Receives the progress of a long engine loop (dense assembly columns, SLQ probes, ...): after each unit of
 * work the loop calls {@link #update} with the units done so far and the total. The engine never prints
 * progress itself; a front end decides how to show it (the CLI draws a bar on a terminal and stays quiet
 * otherwise).
 *
 * <p>Called on the thread that runs the loop, so an implementation should be cheap (rate-limit any output).
 * It may throw an unchecked exception to abort the loop; loops that checkpoint (e.g.
 * {@link io.hvp4j.spectral.DenseAssembly}) save their state before the exception propagates.
 */
@FunctionalInterface
public interface Progress {
    /** Ignores every update. */
    Progress NONE = (done, total) -> {
    };

    /**
     * Reports how far the loop is.
     *
     * @param done  units finished so far, {@code 0 <= done <= total}
     * @param total units of the whole loop
     */
    void update(long done, long total);

    /**
     * A loop of several stages (e.g. the randomized rank's {@code power}, {@code basis}, {@code eigenvalues}) begins
     * stage {@code name}; the updates that follow count its units. Ignored by default.
     *
     * @param name the stage's name
     */
    default void stage(String name) {
    }

    /**
     * A progress sink that is never null.
     *
     * @param p a sink, or null
     * @return {@code p}, or {@link #NONE} when it is null
     */
    static Progress orNone(Progress p) {
        return p == null ? NONE : p;
    }
}
