package jresnet.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that share out numbered tasks; the calling thread works as worker 0, so a
 * pool of one thread runs everything inline. Worker w runs tasks w, w + workers, w + 2·workers, ...:
 * a fixed assignment, so per-worker partial sums add up in the same order on every run and training
 * is bit-for-bit reproducible (which exact resume relies on).
 *
 * <p>A training step hands out several hundred jobs, many of them tens of microseconds long (batch
 * norm, element-wise ops, the small layers), so the hand-off itself must cost far less than that.
 * Waking a parked thread took 23-27 µs per job on the 2-vCPU VM of docs/performance.md (an executor's
 * submit and get), as long as the job itself. So, as OpenMP runtimes do, the helpers spin for
 * {@link #SPIN_NANOS} after each job, watching for the next one, before they park, and the caller
 * spins while it waits for them. Jobs must come from one thread at a time, and never from inside a
 * task.
 */
final class WorkerPool implements AutoCloseable {
    /** One task; {@code worker} in [0, threads) indexes per-worker scratch buffers. */
    interface Task {
        void run(int task, int worker);
    }

    /** Elements per task of elementwise ops: enough to amortize a hand-off, small enough to balance. */
    static final int ELEMENT_CHUNK = 1 << 15;
    /**
     * How long a waiting thread spins before it parks: longer than the gaps between the jobs of one
     * training step, short enough that an idle pool gives its cores back almost at once.
     */
    private static final long SPIN_NANOS = 200_000;

    private final int threads;
    private final Thread[] helpers;
    /** The latest job; a new object each time, so that a helper can tell a new job from one it has seen. */
    private volatile Job job;
    private volatile boolean closed;
    /** Helpers still running the current job; the caller waits for zero. */
    private final AtomicInteger unfinished = new AtomicInteger();
    private volatile boolean callerParked;
    private final Throwable[] failures;
    private boolean running;

    WorkerPool(int threads) {
        this.threads = threads;
        this.failures = new Throwable[threads];
        this.helpers = new Thread[threads - 1];
        for (int w = 1; w < threads; w++) {
            int worker = w;
            Thread t = new Thread(() -> helperLoop(worker), "jresnet-cpu-worker-" + w);
            t.setDaemon(true);
            helpers[w - 1] = t;
            t.start();
        }
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
        if (running) throw new IllegalStateException("a WorkerPool job was started from inside another");
        running = true;
        try {
            unfinished.set(used - 1);
            job = new Job(task, count, used, Thread.currentThread());
            for (int w = 1; w < used; w++) LockSupport.unpark(helpers[w - 1]);
            try {
                runShare(0, used, count, task);
            } catch (RuntimeException | Error e) {
                failures[0] = e;
            }
            awaitHelpers();
            Throwable failure = null;
            for (int w = 0; w < used; w++) {
                if (failure == null) failure = failures[w];
                failures[w] = null;
            }
            if (failure instanceof RuntimeException r) throw r;
            if (failure instanceof Error e) throw e;
        } finally {
            running = false;
        }
    }

    private void awaitHelpers() {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (unfinished.get() > 0) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
                continue;
            }
            callerParked = true;
            if (unfinished.get() > 0) LockSupport.park(this);
            callerParked = false;
        }
    }

    private void helperLoop(int worker) {
        Job seen = null; // not the job current at start: the first one may be posted before this thread runs
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (job == seen && !closed) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.park(this); // run() unparks every helper it hands a job to
            }
            if (closed) return;
            Job current = job;
            seen = current;
            if (worker >= current.used()) continue;
            try {
                runShare(worker, current.used(), current.count(), current.task());
            } catch (RuntimeException | Error e) {
                failures[worker] = e;
            }
            if (unfinished.decrementAndGet() == 0 && callerParked) LockSupport.unpark(current.caller());
        }
    }

    private record Job(Task task, int count, int used, Thread caller) {}

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
        closed = true;
        for (Thread helper : helpers) LockSupport.unpark(helper);
    }
}
