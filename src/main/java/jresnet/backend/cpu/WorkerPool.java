package jresnet.backend.cpu;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of threads that share out numbered tasks; the calling thread works as worker 0, so a
 * pool of one thread runs everything inline. Tasks are handed out one at a time (dynamic balance).
 */
final class WorkerPool implements AutoCloseable {
    /** One task; {@code worker} in [0, threads) indexes per-worker scratch buffers. */
    interface Task {
        void run(int task, int worker);
    }

    private final int threads;
    private final ExecutorService helpers;
    @SuppressWarnings("unchecked")
    private final Future<?>[] pending;

    WorkerPool(int threads) {
        this.threads = threads;
        this.pending = new Future<?>[threads];
        this.helpers = threads > 1 ? Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "jresnet-cpu-worker");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    int threads() { return threads; }

    /** Runs tasks 0..count-1 and returns when all are done; rethrows the first failure. */
    void run(int count, Task task) {
        if (count <= 0) return;
        int used = Math.min(threads, count);
        if (used == 1) {
            for (int i = 0; i < count; i++) task.run(i, 0);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        for (int w = 1; w < used; w++) {
            int worker = w;
            pending[w] = helpers.submit(() -> drain(next, count, task, worker));
        }
        Throwable failure = null;
        try {
            drain(next, count, task, 0);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (int w = 1; w < used; w++) {
            try {
                pending[w].get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
            pending[w] = null;
        }
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new IllegalStateException(failure);
    }

    /** Splits [0, size) into about {@code threads·perThread} ranges of at least {@code minChunk}. */
    void runRanges(int size, int minChunk, RangeTask task) {
        int chunks = Math.max(1, Math.min(threads * 4, (size + minChunk - 1) / minChunk));
        int step = (size + chunks - 1) / chunks;
        run(chunks, (c, w) -> {
            int from = c * step, to = Math.min(size, from + step);
            if (from < to) task.run(from, to, w);
        });
    }

    interface RangeTask {
        void run(int from, int to, int worker);
    }

    private static void drain(AtomicInteger next, int count, Task task, int worker) {
        for (int i; (i = next.getAndIncrement()) < count; ) task.run(i, worker);
    }

    @Override public void close() {
        if (helpers != null) helpers.shutdownNow();
    }
}
