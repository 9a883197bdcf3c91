package jresnet.backend.cpu;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A fixed set of threads that share out numbered tasks; the calling thread works as worker 0, so a
 * pool of one thread runs everything inline. Worker w runs tasks w, w + workers, w + 2·workers, ...:
 * a fixed assignment, so per-worker partial sums add up in the same order on every run and training
 * is bit-for-bit reproducible (which exact resume relies on).
 */
final class WorkerPool implements AutoCloseable {
    /** One task; {@code worker} in [0, threads) indexes per-worker scratch buffers. */
    interface Task {
        void run(int task, int worker);
    }

    /** Elements per task of elementwise ops: enough to amortize a hand-off, small enough to balance. */
    static final int ELEMENT_CHUNK = 1 << 15;

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
        for (int w = 1; w < used; w++) {
            int worker = w;
            pending[w] = helpers.submit(() -> runShare(worker, used, count, task));
        }
        Throwable failure = null;
        try {
            runShare(0, used, count, task);
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

    private static void runShare(int worker, int workers, int count, Task task) {
        for (int i = worker; i < count; i += workers) task.run(i, worker);
    }

    @Override public void close() {
        if (helpers != null) helpers.shutdownNow();
    }
}
