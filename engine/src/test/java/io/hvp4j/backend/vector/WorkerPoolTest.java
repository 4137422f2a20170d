package io.hvp4j.backend.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class WorkerPoolTest {
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void barrierOrdersPhasesOfEveryPiece() {
        try (WorkerPool pool = new WorkerPool(2)) {
            int rounds = 2000;
            int[] seen = new int[2];
            SpinBarrier barrier = new SpinBarrier(2);
            AtomicInteger errors = new AtomicInteger();
            pool.runTogether(2, barrier, part -> {
                for (int r = 0; r < rounds; r++) {
                    seen[part] = r;
                    barrier.await();
                    if (seen[1 - part] != r) {
                        errors.incrementAndGet();
                    }
                    barrier.await();
                }
            });
            assertEquals(0, errors.get());
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void failingPieceReleasesTheOthers() {
        try (WorkerPool pool = new WorkerPool(2)) {
            SpinBarrier barrier = new SpinBarrier(2);
            RuntimeException e = assertThrows(RuntimeException.class, () -> pool.runTogether(2, barrier, part -> {
                if (part == 1) {
                    throw new ArithmeticException("piece 1 failed");
                }
                barrier.await();
            }));
            assertTrue(e instanceof ArithmeticException || e.getMessage().contains("failed"), e.toString());
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void refusedInsideAPieceAndGemmThereFallsBack() {
        try (WorkerPool pool = new WorkerPool(2); Arena arena = Arena.ofShared()) {
            assertTrue(pool.canRunTogether());
            assertThrows(IllegalStateException.class, () -> pool.runTogether(3, new SpinBarrier(3), p -> { }));
            VectorGemm gemm = new VectorGemm(pool);
            int n = 200;
            MemorySegment a = arena.allocate((long) n * n * 8), b = arena.allocate((long) n * n * 8);
            for (int i = 0; i < n * n; i++) {
                a.setAtIndex(ValueLayout.JAVA_DOUBLE, i, Math.sin(i));
                b.setAtIndex(ValueLayout.JAVA_DOUBLE, i, Math.cos(0.5 * i));
            }
            MemorySegment outside = arena.allocate((long) n * n * 8), inside = arena.allocate((long) n * n * 8);
            gemm.dgemm(false, false, n, n, n, 1, a, n, b, n, 0, outside, n);
            boolean[] could = new boolean[2];
            pool.run(2, part -> {
                could[part] = pool.canRunTogether();
                if (part == 1) {
                    // On a worker: the shared-panel path would wait for itself; the call must still finish.
                    gemm.dgemm(false, false, n, n, n, 1, a, n, b, n, 0, inside, n);
                }
            });
            assertTrue(could[0]);
            assertFalse(could[1]);
            assertArrayEquals(outside.toArray(ValueLayout.JAVA_DOUBLE), inside.toArray(ValueLayout.JAVA_DOUBLE));
        }
    }
}
