package jresnet.backend.cpu;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that share out numbered tasks; the calling thread works as worker 0, so a
 * pool of one thread runs everything inline. Each worker takes the next task not yet taken whenever
 * it is free, so a core that runs slower than the others (one shared with another guest of the host,
 * an efficiency core) takes fewer tasks instead of holding up the job: on the 2-vCPU VM of
 * docs/performance.md one vCPU at a time ran 1.6x slower than the other for minutes on end, and
 * handing out tasks round-robin made resnet20 steps 7-11% slower. Which worker ran a task must
 * therefore not change its result; sums over tasks go through {@link #runStripes}, whose partial sums
 * belong to fixed runs of tasks rather than to workers, so they add up in the same order on every run
 * and training is bit-for-bit reproducible for a given thread count (which exact resume relies on).
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
    /**
     * Stripes per thread of {@link #runStripes}: a worker left with nothing to do waits at most for
     * one stripe, an eighth of the job with two threads.
     */
    private static final int STRIPES_PER_THREAD = 4;
    /** The most floats of partial sums {@link #stripes} allows in all (128 MiB), beyond one per thread. */
    private static final long PARTIAL_FLOATS = 1L << 25;

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

    /**
     * Runs tasks 0..count-1 and returns when all are done; rethrows the first failure. The tasks go
     * to whichever worker is free, so a task's result must not depend on the worker that runs it.
     */
    void run(int count, Task task) {
        // its helpers have ended: a job would wait for them for ever. (A close from another thread while
        // a job runs is not guarded against: the backend, like its device twin, belongs to one thread.)
        if (closed) throw new IllegalStateException("the CPU backend is closed; open a new one");
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
            Job posted = new Job(task, count, used, Thread.currentThread(), new AtomicInteger());
            job = posted;
            for (int w = 1; w < used; w++) LockSupport.unpark(helpers[w - 1]);
            try {
                runShare(0, posted);
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
                runShare(worker, current);
            } catch (RuntimeException | Error e) {
                failures[worker] = e;
            }
            if (unfinished.decrementAndGet() == 0 && callerParked) LockSupport.unpark(current.caller());
        }
    }

    /** {@code next}: the first task not yet taken. */
    private record Job(Task task, int count, int used, Thread caller, AtomicInteger next) {}

    /**
     * Runs {@code task} over [0, size) cut into the ranges of {@link #rangeStarts}: long ones first,
     * then shorter and shorter, taken in that order by whichever worker is free.
     */
    void runRanges(int size, int minChunk, RangeTask task) {
        if (size <= 0) return;
        int[] starts = rangeStarts(size, minChunk);
        run(starts.length - 1, (r, w) -> task.run(starts[r], starts[r + 1], w));
    }

    /**
     * Where the ranges of {@link #runRanges} start, and {@code size} last: rounds of one range per
     * thread, each range a third of what is left per thread (a round takes two thirds), down to 1/16 of
     * a thread's share, each range a multiple of {@code minChunk} long but the last, so that a GEMM's
     * rows break at whole micro-tiles ({@link Sgemm#MR}). Long ranges first, because each range of a
     * GEMM's rows fetches all of packed B again from memory, and short ones last, so that a worker on a
     * core slowed by another guest waits at most a short range at the end. On the 2048² product (2048
     * rows, two threads: 680, 680, 224, 224, 80, 80, 64, 16; measured as 688, 688, 224, 224, 80, 80, 64
     * before the rounding below went down) this ran 0.99-1.06x a quarter per round at 512
     * bits while both vCPUs ran alike, and a quarter per round had run 2-5% faster than eight equal
     * ranges at 256 bits while one vCPU ran 30% slower, and level with them while both ran alike
     * (docs/performance.md). Two thirds rather than more first, so that even a vCPU at half speed ends
     * its first range about when the other runs out of ranges. Depends on the sizes and the thread
     * count only.
     */
    int[] rangeStarts(int size, int minChunk) {
        if (threads == 1) return new int[] {0, size};
        int smallest = roundUp(Math.max(minChunk, size / (16 * threads)), minChunk);
        int[] starts = new int[2 * threads + 1];
        int count = 0;
        while (starts[count] < size) {
            // rounded down: rounded up, a chunk much longer than a third of what is left made one
            // worker's first range take most of it (100,000 elements in chunks of 32K: 65,536 and 34,464)
            int third = (int) ((size - starts[count]) * 2L / (3L * threads));
            int range = Math.max(smallest, third / minChunk * minChunk);
            for (int t = 0; t < threads && starts[count] < size; t++) {
                if (count + 1 == starts.length) starts = Arrays.copyOf(starts, 2 * starts.length);
                starts[count + 1] = Math.min(size, starts[count] + range);
                count++;
            }
        }
        return Arrays.copyOf(starts, count + 1);
    }

    /** {@code value} rounded up to a multiple of {@code multiple}. */
    static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    interface RangeTask {
        void run(int from, int to, int worker);
    }

    /**
     * How many stripes {@link #runStripes} should cut {@code count} tasks into when each stripe needs
     * its own partial sums of {@code partialFloats}: STRIPES_PER_THREAD per thread, no more than
     * there are tasks nor, beyond one per thread, than PARTIAL_FLOATS allows. Depends only on its
     * arguments and the thread count, so that the sums do too.
     */
    int stripes(int count, long partialFloats) {
        if (threads == 1) return 1;
        long affordable = Math.max(threads, PARTIAL_FLOATS / Math.max(1, partialFloats));
        return (int) Math.max(1, Math.min(Math.min(count, maxStripes()), affordable));
    }

    /** The most stripes {@link #stripes} ever asks for. */
    int maxStripes() { return threads * STRIPES_PER_THREAD; }

    /**
     * Runs tasks 0..count-1 as {@code stripes} runs of neighbouring tasks, stripe s from
     * s·count/stripes: each stripe on one worker, in task order, the stripes taken as workers free
     * up. For sums over tasks: each stripe adds into partials of its own, and the caller adds those
     * in stripe order, the same on every run whichever worker ran which stripe.
     */
    void runStripes(int count, int stripes, StripeTask task) {
        run(stripes, (s, w) -> {
            int from = (int) ((long) s * count / stripes), to = (int) ((long) (s + 1) * count / stripes);
            if (from < to) task.run(from, to, s, w);
        });
    }

    interface StripeTask {
        void run(int from, int to, int stripe, int worker);
    }

    private static void runShare(int worker, Job job) {
        for (int i = job.next().getAndIncrement(); i < job.count(); i = job.next().getAndIncrement()) job.task().run(i, worker);
    }

    /**
     * The scratch buffer at {@code index} of a per-worker or per-stripe set, at least {@code size}
     * floats: replaced by a larger one when short, so buffers only grow; contents undefined.
     */
    static float[] grow(float[][] buffers, int index, int size) {
        if (buffers[index].length < size) buffers[index] = new float[size];
        return buffers[index];
    }

    @Override public void close() {
        closed = true;
        for (Thread helper : helpers) LockSupport.unpark(helper);
    }
}
