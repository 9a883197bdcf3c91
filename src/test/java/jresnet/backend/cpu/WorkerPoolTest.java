package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The hand-off between the caller and the spinning helper threads. */
class WorkerPoolTest {
    /** Each task once, task i on worker i mod used, whatever the job sizes before it. */
    @Test void everyTaskRunsOnceOnItsFixedWorker() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int count : new int[] {1, 2, 3, 7, 100, 2, 1000}) {
                int[] ranBy = new int[count], runs = new int[count];
                Arrays.fill(ranBy, -1);
                pool.run(count, (task, worker) -> {
                    ranBy[task] = worker;
                    runs[task]++;
                });
                int used = Math.min(3, count);
                for (int t = 0; t < count; t++) {
                    assertEquals(1, runs[t], "task " + t + " of " + count);
                    assertEquals(t % used, ranBy[t], "worker of task " + t + " of " + count);
                }
            }
        }
    }

    /** Many short jobs back to back, each seeing the writes of the one before (the caller's and the helpers'). */
    @Test void shortJobsInARowSeeEachOthersWrites() {
        try (WorkerPool pool = new WorkerPool(2)) {
            long[][] cells = new long[2][2]; // job j reads row j mod 2 and writes the other
            for (int job = 0; job < 20_000; job++) {
                long[] previous = cells[job % 2], next = cells[(job + 1) % 2];
                pool.run(2, (task, worker) -> next[task] = previous[1 - task] + 1);
            }
            assertArrayEquals(new long[] {20_000, 20_000}, cells[0]);
        }
    }

    /** Helpers that have parked after a quiet spell still take the next job. */
    @Test void parkedHelpersWakeForTheNextJob() {
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int round = 0; round < 3; round++) {
                LockSupport.parkNanos(20_000_000); // far past the helpers' spin
                int[] ranBy = new int[2];
                pool.run(2, (task, worker) -> ranBy[task] = worker);
                assertArrayEquals(new int[] {0, 1}, ranBy);
            }
        }
    }

    /** A helper's failure reaches the caller, and the pool goes on working. */
    @Test void helperFailureIsRethrownAndPoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalArgumentException thrown = new IllegalArgumentException("task 1 failed");
            IllegalArgumentException seen = assertThrows(IllegalArgumentException.class, () -> pool.run(2, (task, worker) -> {
                if (task == 1) throw thrown;
            }));
            assertSame(thrown, seen);
            int[] runs = new int[4];
            pool.run(4, (task, worker) -> runs[task]++);
            assertArrayEquals(new int[] {1, 1, 1, 1}, runs);
        }
    }

    /** A job started from inside a task would wait for itself; it is refused instead. */
    @Test void nestedJobIsRefused() {
        try (WorkerPool pool = new WorkerPool(2)) {
            assertThrows(IllegalStateException.class, () -> pool.run(2, (task, worker) -> {
                if (worker == 0) pool.run(2, (inner, w) -> { });
            }));
            int[] runs = new int[2];
            pool.run(2, (task, worker) -> runs[task]++);
            assertArrayEquals(new int[] {1, 1}, runs);
        }
    }

    @Test void closeStopsTheHelpers() throws InterruptedException {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        WorkerPool pool = new WorkerPool(3);
        List<Thread> helpers = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.getName().startsWith("jresnet-cpu-worker")).toList();
        assertEquals(2, helpers.size(), "helper threads started");
        pool.run(3, (task, worker) -> { });
        pool.close();
        for (Thread helper : helpers) {
            helper.join(10_000);
            assertFalse(helper.isAlive(), helper.getName() + " still running after close");
        }
    }
}
