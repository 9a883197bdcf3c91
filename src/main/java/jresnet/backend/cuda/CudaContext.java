package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.util.Arrays;
import jcuda.Pointer;
import jcuda.driver.CUstream;
import jcuda.jcublas.cublasHandle;
import jcuda.jcudnn.cudnnHandle;

/**
 * What every CUDA op family shares: the one compute stream all device work is queued on, the cuDNN
 * and cuBLAS handles bound to it, our kernels and the memory pool; and the launch shapes our kernels
 * are written for.
 */
final class CudaContext {
    static final int THREADS = 256;
    private static final int MAX_BLOCKS = 8192;
    private static final int COLUMN_TILE = 32, ROW_LANES = 8;

    final CUstream stream;
    final cudnnHandle cudnn;
    final cublasHandle cublas;
    final KernelModule kernels;
    final DevicePool pool;

    CudaContext(CUstream stream, cudnnHandle cudnn, cublasHandle cublas, KernelModule kernels, DevicePool pool) {
        this.stream = stream;
        this.cudnn = cudnn;
        this.cublas = cublas;
        this.kernels = kernels;
        this.pool = pool;
    }

    /** A grid-stride kernel over n elements: 1-D blocks of {@link #THREADS}, at most MAX_BLOCKS of them. */
    void launchOver(long n, String kernel, Object... args) {
        kernels.launch(kernel, blocks(n), 1, THREADS, 1, stream, args);
    }

    void launch(String kernel, int gridX, int gridY, int blockX, int blockY, Object... args) {
        kernels.launch(kernel, gridX, gridY, blockX, blockY, stream, args);
    }

    static int blocks(long n) {
        return (int) Math.max(1, Math.min(MAX_BLOCKS, (n + THREADS - 1) / THREADS));
    }

    void sync(String what) {
        CudaCheck.driver(cuStreamSynchronize(stream), what + ": cuStreamSynchronize (a queued kernel may have failed)");
    }

    static Pointer one() { return Pointer.to(new float[] {1f}); }

    static Pointer zero() { return Pointer.to(new float[] {0f}); }

    /** out[c] = sum over rows of values[row, c], in double per chunk (bias gradients). */
    void columnSums(CudaTensor values, int rows, int channels, CudaTensor out) {
        reduceColumns(rows, channels, 1, "column_sum_partials", new Object[] {values}, "column_sum_finalize", channels, out);
    }

    /**
     * A reduction over the rows of [rows, channels] data in two launches, deterministic and without
     * atomics: the partials kernel (leading..., rows, channels, rowsPerChunk, partial) writes `sums`
     * doubles per chunk of rows and channel into a pooled buffer; the finalize kernel (partial, chunks,
     * trailing...) combines the chunks per channel.
     */
    void reduceColumns(int rows, int channels, int sums, String partials, Object[] leading, String finalize,
                       Object... trailing) {
        int perChunk = rowsPerChunk(rows), chunks = (rows + perChunk - 1) / perChunk;
        DevicePool.Block partial = pool.acquire((long) chunks * sums * channels * Double.BYTES);
        try {
            Object[] partialArgs = Arrays.copyOf(leading, leading.length + 4);
            partialArgs[leading.length] = rows;
            partialArgs[leading.length + 1] = channels;
            partialArgs[leading.length + 2] = perChunk;
            partialArgs[leading.length + 3] = partial.ptr;
            launch(partials, (channels + COLUMN_TILE - 1) / COLUMN_TILE, chunks, COLUMN_TILE, ROW_LANES, partialArgs);
            Object[] finalizeArgs = new Object[trailing.length + 2];
            finalizeArgs[0] = partial.ptr;
            finalizeArgs[1] = chunks;
            System.arraycopy(trailing, 0, finalizeArgs, 2, trailing.length);
            launch(finalize, (channels + THREADS - 1) / THREADS, 1, THREADS, 1, finalizeArgs);
        } finally {
            pool.release(partial);
        }
    }

    /** Rows per chunk of a column reduction: enough chunks to fill the device, each worth a block. */
    private static int rowsPerChunk(int rows) {
        return Math.max(64, (rows + 511) / 512);
    }
}
