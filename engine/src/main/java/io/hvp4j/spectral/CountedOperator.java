package io.hvp4j.spectral;

import io.hvp4j.Progress;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;

/**
 * {@code a} with a count of the columns it has applied, reported to a {@link Progress} after each call (capped at
 * {@code total}); everything else is delegated unchanged, so a method's bits do not depend on whether anyone
 * listens. The one progress wrapper of the spectral methods (trace estimators, Lanczos, block Lanczos, power
 * iteration).
 */
final class CountedOperator implements SymmetricOperator {
    private final SymmetricOperator a;
    private final Progress progress;
    private final long total;
    private long done;

    /** Reports {@code (0, total)} at once. */
    CountedOperator(SymmetricOperator a, Progress progress, long total) {
        this.a = a;
        this.progress = Progress.orNone(progress);
        this.total = total;
        this.progress.update(0, total);
    }

    @Override
    public int dimension() {
        return a.dimension();
    }

    @Override
    public DType dtype() {
        return a.dtype();
    }

    @Override
    public int maxBlock() {
        return a.maxBlock();
    }

    @Override
    public void apply(Tensor v, Tensor out) {
        a.apply(v, out);
        done = Math.min(total, done + v.cols());
        progress.update(done, total);
    }

    @Override
    public String description() {
        return a.description();
    }

    /** Counts the units up to {@code units} as done (work a method skips, e.g. iterations convergence saved). */
    void skipTo(long units) {
        long d = Math.min(total, units);
        if (d > done) {
            done = d;
            progress.update(done, total);
        }
    }

    /** Ends at {@code done == total} even where fewer products than planned were needed. */
    void finish() {
        skipTo(total);
    }
}
