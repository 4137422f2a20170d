package io.hvp4j.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TimingTest {
    /** A fake clock: each round takes 100 ms; the JIT compiles during the first {@code busyRounds} rounds. */
    private static final class Fake {
        final AtomicLong nanos = new AtomicLong();
        final AtomicLong compileMs = new AtomicLong();
        int rounds;

        Runnable round(int busyRounds) {
            return () -> {
                rounds++;
                nanos.addAndGet(100_000_000L);
                if (rounds <= busyRounds) {
                    compileMs.addAndGet(7);
                }
            };
        }
    }

    @Test
    void warmUpWaitsForTheJitToGoQuiet() {
        Fake f = new Fake();
        Timing.WarmUp w = Timing.warmUp(f.round(40), 1000, 1000, 30_000, f.compileMs::get, f.nanos::get);
        // Compiling ends with round 40 (t = 4.0 s); 1 s of quiet follows.
        assertTrue(w.jitSettled());
        assertEquals(5000, w.millis());
        assertEquals(50, f.rounds);
    }

    @Test
    void warmUpHonoursTheMinimumAndTwoRounds() {
        Fake f = new Fake();
        Timing.WarmUp w = Timing.warmUp(f.round(0), 3000, 1000, 30_000, f.compileMs::get, f.nanos::get);
        assertTrue(w.jitSettled());
        assertEquals(3000, w.millis());
        Fake g = new Fake();
        Timing.warmUp(g.round(0), 0, 0, 30_000, g.compileMs::get, g.nanos::get);
        assertEquals(2, g.rounds);
    }

    @Test
    void warmUpStopsAtTheCapWhenTheJitNeverSettles() {
        Fake f = new Fake();
        Timing.WarmUp w = Timing.warmUp(f.round(Integer.MAX_VALUE), 1000, 1000, 5000, f.compileMs::get, f.nanos::get);
        assertFalse(w.jitSettled());
        assertEquals(5000, w.millis());
    }

    @Test
    void warmUpWithoutJitMonitoringRunsTheMinimumAndSaysSo() {
        Fake f = new Fake();
        Timing.WarmUp w = Timing.warmUp(f.round(0), 2000, 1000, 30_000, null, f.nanos::get);
        assertFalse(w.jitSettled());
        assertEquals(2000, w.millis());
        assertEquals(20, f.rounds);
    }

    @Test
    void warmUpRejectsBadLimits() {
        assertThrows(IllegalArgumentException.class, () -> Timing.warmUp(() -> { }, 5000, 1000, 1000));
        assertThrows(IllegalArgumentException.class, () -> Timing.warmUp(() -> { }, -1, 1000, 1000));
    }

    @Test
    void realJitMonitoringSettlesOnATrivialRound() {
        Timing.WarmUp w = Timing.warmUp(() -> { }, 0, 200, 5_000);
        assertTrue(w.millis() >= 200 || !w.jitSettled(), w.toString());
    }
}
