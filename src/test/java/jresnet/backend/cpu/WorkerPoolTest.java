package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The hand-off between the caller and the spinning helper threads. */
class WorkerPoolTest {
    /** Each task once, on a worker in [0, used), whatever the job sizes before it. */
    @Test void everyTaskRunsOnce() {
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
                    assertTrue(ranBy[t] >= 0 && ranBy[t] < used, "worker " + ranBy[t] + " of task " + t + " of " + count);
                }
            }
        }
    }

    /**
     * Ranges cover [0, size) once, each but the last a whole number of chunks, longest first and
     * shorter towards the end, a few rounds of one per thread.
     */
    @Test void rangesBreakAtWholeChunksLongestFirst() {
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int[] sizeAndChunk : new int[][] {{128, 6}, {256, 6}, {2048, 8}, {2048, 6}, {5, 6}, {1000, 1}, {37, 7}, {0, 6},
                    {100_000, WorkerPool.ELEMENT_CHUNK}}) {
                int size = sizeAndChunk[0], chunk = sizeAndChunk[1];
                int[] covered = new int[size];
                List<int[]> ranges = new java.util.concurrent.CopyOnWriteArrayList<>();
                pool.runRanges(size, chunk, (from, to, w) -> {
                    ranges.add(new int[] {from, to});
                    for (int i = from; i < to; i++) covered[i]++;
                });
                String what = size + " in chunks of " + chunk;
                for (int i = 0; i < size; i++) assertEquals(1, covered[i], what + ": element " + i);
                assertTrue(ranges.size() <= 8, what + ": " + ranges.size() + " ranges");
                if (size > 0) assertTrue(ranges.stream().mapToInt(r -> r[1] - r[0]).max().getAsInt() <= Math.max(chunk, (size + 2) / 3),
                        what + ": a first range longer than a third of the whole, " + Arrays.toString(pool.rangeStarts(size, chunk)));
                for (int[] r : ranges) assertTrue(r[1] == size || (r[1] - r[0]) % chunk == 0, what + ": range " + Arrays.toString(r));
                int[] starts = pool.rangeStarts(size, chunk);
                for (int r = 1; r + 1 < starts.length; r++)
                    assertTrue(starts[r] - starts[r - 1] >= starts[r + 1] - starts[r], what + ": " + Arrays.toString(starts));
            }
            assertArrayEquals(new int[] {0, 680, 1360, 1584, 1808, 1888, 1968, 2032, 2048}, pool.rangeStarts(2048, 8),
                    "2048 rows of 8: each round two thirds of what is left, down to 1/16 of a thread's share");
        }
        try (WorkerPool one = new WorkerPool(1)) {
            assertArrayEquals(new int[] {0, 2048}, one.rangeStarts(2048, 8), "one thread: one range");
        }
    }

    /** A worker held up in one task (a slower core) leaves the rest of the job to the others. */
    @Test void aHeldUpWorkerLeavesTheOtherTasksToTheRest() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2)) {
            int count = 10;
            CountDownLatch othersDone = new CountDownLatch(count - 1);
            AtomicInteger heldUp = new AtomicInteger(-1);
            int[] ranBy = new int[count];
            pool.run(count, (task, worker) -> {
                ranBy[task] = worker;
                if (heldUp.compareAndSet(-1, task)) {
                    try {
                        othersDone.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                } else {
                    othersDone.countDown();
                }
            });
            assertEquals(0, othersDone.getCount(), "tasks left waiting for the held-up worker");
            int held = heldUp.get();
            for (int t = 0; t < count; t++) {
                if (t != held) assertEquals(1 - ranBy[held], ranBy[t], "worker of task " + t);
            }
        }
    }

    /** Stripes: neighbouring tasks, each exactly once, in order within a stripe, stripe s from s·count/stripes. */
    @Test void stripesCoverTheTasksInOrder() {
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int count : new int[] {1, 5, 8, 9, 1000}) {
                int stripes = pool.stripes(count, 100);
                assertEquals(Math.min(count, pool.maxStripes()), stripes, "stripes of " + count + " tasks");
                int[] stripeOf = new int[count], runs = new int[count];
                int[][] bounds = new int[stripes][];
                pool.runStripes(count, stripes, (from, to, s, w) -> {
                    bounds[s] = new int[] {from, to};
                    for (int t = from; t < to; t++) {
                        stripeOf[t] = s;
                        runs[t]++;
                    }
                });
                for (int s = 0; s < stripes; s++) {
                    assertArrayEquals(new int[] {(int) ((long) s * count / stripes), (int) ((long) (s + 1) * count / stripes)}, bounds[s]);
                }
                for (int t = 0; t < count; t++) assertEquals(1, runs[t], "task " + t + " of " + count);
            }
            assertEquals(2, pool.stripes(1000, 1L << 30), "stripes whose partials are too big to afford more than one per thread");
        }
        try (WorkerPool single = new WorkerPool(1)) {
            assertEquals(1, single.stripes(1000, 100), "one thread, one stripe: no partials to add");
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
                // each task waits for the other to start, so one worker cannot run both
                CountDownLatch bothStarted = new CountDownLatch(2);
                int[] ranBy = new int[2];
                pool.run(2, (task, worker) -> {
                    ranBy[task] = worker;
                    bothStarted.countDown();
                    try {
                        bothStarted.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertEquals(Set.of(0, 1), Set.of(ranBy[0], ranBy[1]), "workers of the two tasks in round " + round);
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
                if (task == 0) pool.run(2, (inner, w) -> { });
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
