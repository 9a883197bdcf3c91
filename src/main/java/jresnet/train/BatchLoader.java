package jresnet.train;

import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jresnet.data.BatchTransform;
import jresnet.data.Dataset;

/**
 * Assembles batches (NHWC floats + labels) in a given order, one batch ahead on a background thread,
 * alternating between two buffers so the next batch is ready while the current step runs. The
 * random stream of batch k depends only on (seed, epoch, k), so a resumed run sees the same batches.
 */
final class BatchLoader implements AutoCloseable {
    private static final int IMAGE = 32 * 32 * 3;

    record Batch(float[] images, float[] labels, int size) {}

    private final Dataset data;
    private final int[] order;
    private final int batchSize;
    private final BatchTransform transform;
    private final long seed;
    private final int epoch;
    private final Batch[] buffers = new Batch[2];
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "batch-loader");
        t.setDaemon(true);
        return t;
    });
    private Future<Batch> pending;
    private int next;

    BatchLoader(Dataset data, int[] order, int batchSize, BatchTransform transform, long seed, int epoch, int firstBatch) {
        this.data = data;
        this.order = order;
        this.batchSize = batchSize;
        this.transform = transform;
        this.seed = seed;
        this.epoch = epoch;
        for (int i = 0; i < 2; i++) buffers[i] = new Batch(new float[batchSize * IMAGE], new float[batchSize], 0);
        this.next = firstBatch;
        prefetch();
    }

    static int batches(int samples, int batchSize) { return (samples + batchSize - 1) / batchSize; }

    boolean hasNext() { return pending != null; }

    /** The next batch; its arrays stay valid until the call after next. */
    Batch next() {
        try {
            Batch b = pending.get();
            prefetch();
            return b;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading a batch", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    private void prefetch() {
        if (next >= batches(order.length, batchSize)) {
            pending = null;
            return;
        }
        int k = next++;
        Batch buffer = buffers[k % 2];
        pending = worker.submit(() -> fill(k, buffer));
    }

    private Batch fill(int k, Batch buffer) {
        int from = k * batchSize, n = Math.min(batchSize, order.length - from);
        for (int i = 0; i < n; i++) {
            int record = order[from + i];
            data.copyImageNhwc(record, buffer.images(), i * IMAGE);
            buffer.labels()[i] = data.label(record);
        }
        if (transform != null) transform.apply(buffer.images(), n, streamFor(seed, epoch, k));
        return new Batch(buffer.images(), buffer.labels(), n);
    }

    static SplittableRandom streamFor(long seed, int epoch, int batch) {
        long mixed = seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + batch * 0x165667B19E3779F9L;
        return new SplittableRandom(mixed);
    }

    @Override public void close() { worker.shutdownNow(); }
}
