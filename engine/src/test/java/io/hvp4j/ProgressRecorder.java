package io.hvp4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

/** A {@link Progress} that keeps every update, with the checks the progress tests share. Not thread-safe. */
public final class ProgressRecorder implements Progress {
    private final List<long[]> updates = new ArrayList<>();

    @Override
    public void update(long done, long total) {
        updates.add(new long[] {done, total});
    }

    public List<long[]> updates() {
        return updates;
    }

    /**
     * Asserts at least {@code minUpdates} updates, one total throughout ({@code expectedTotal} when not negative),
     * {@code 0 <= done <= total}, done never decreasing, and the last update at {@code done == total}.
     */
    public void assertMonotoneToEnd(long expectedTotal, int minUpdates) {
        assertTrue(updates.size() >= minUpdates, "only " + updates.size() + " updates");
        long total = updates.get(0)[1];
        if (expectedTotal >= 0) {
            assertEquals(expectedTotal, total, "total");
        }
        long last = -1;
        for (long[] u : updates) {
            assertEquals(total, u[1], "the total changed");
            assertTrue(u[0] >= 0 && u[0] <= total, "done " + u[0] + " of " + total);
            assertTrue(u[0] >= last, "done went back from " + last + " to " + u[0]);
            last = u[0];
        }
        assertEquals(total, last, "the last update is not done == total");
    }
}
