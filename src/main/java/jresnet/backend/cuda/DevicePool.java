package jresnet.backend.cuda;

import jresnet.backend.DeviceOutOfMemoryException;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;

/**
 * A caching device allocator: freed blocks go to a free list per size class and are handed out again,
 * so a training loop that allocates the same sizes every step calls cuMemAlloc only in its first step.
 * All work runs on one compute stream, so a block released after queueing a kernel may be reused by the
 * next kernel on that stream without synchronizing.
 */
public final class DevicePool implements AutoCloseable {

    /** Bytes handed out and not yet released, bytes held from the driver, and cuMemAlloc calls so far. */
    public record Statistics(long bytesInUse, long bytesReserved, long deviceAllocations, long requests) {}

    /** A device allocation of a size class; ptr is its start. */
    static final class Block {
        final CUdeviceptr ptr;
        final long bytes;

        private Block(CUdeviceptr ptr, long bytes) {
            this.ptr = ptr;
            this.bytes = bytes;
        }
    }

    private static final long SMALL_GRANULE = 512;
    private static final long LARGE_GRANULE = 2L << 20;

    private final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    private long bytesInUse;
    private long bytesReserved;
    private long deviceAllocations;
    private long requests;

    /** A block of at least bytes (one granule for 0 bytes). */
    synchronized Block acquire(long bytes) {
        requests++;
        long size = sizeClass(bytes);
        ArrayDeque<Block> list = free.get(size);
        Block block = list == null ? null : list.poll();
        if (block == null) block = allocate(size);
        bytesInUse += block.bytes;
        return block;
    }

    synchronized void release(Block block) {
        bytesInUse -= block.bytes;
        free.computeIfAbsent(block.bytes, k -> new ArrayDeque<>()).push(block);
    }

    public synchronized Statistics statistics() {
        return new Statistics(bytesInUse, bytesReserved, deviceAllocations, requests);
    }

    /** Small sizes round to powers of two (at least 512 B), large ones to 2 MiB multiples. */
    static long sizeClass(long bytes) {
        if (bytes <= LARGE_GRANULE) return Math.max(SMALL_GRANULE, Long.highestOneBit(Math.max(1, bytes - 1)) << 1);
        return (bytes + LARGE_GRANULE - 1) / LARGE_GRANULE * LARGE_GRANULE;
    }

    private Block allocate(long size) {
        CUdeviceptr ptr = new CUdeviceptr();
        int status = cuMemAlloc(ptr, size);
        if (status == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            // Cached blocks of other sizes may be what is missing: give them back and try once more.
            releaseCached();
            status = cuMemAlloc(ptr, size);
        }
        String what = "cuMemAlloc(" + size + " bytes; pool holds " + bytesReserved + " bytes, " + bytesInUse + " in use)";
        if (status == CUresult.CUDA_ERROR_OUT_OF_MEMORY) throw new DeviceOutOfMemoryException("GPU out of memory: " + what);
        CudaCheck.driver(status, what);
        deviceAllocations++;
        bytesReserved += size;
        return new Block(ptr, size);
    }

    private void releaseCached() {
        for (ArrayDeque<Block> list : free.values()) {
            for (Block b : list) {
                CudaCheck.driver(cuMemFree(b.ptr), "cuMemFree(" + b.bytes + " bytes)");
                bytesReserved -= b.bytes;
            }
            list.clear();
        }
    }

    /** Frees the cached blocks; blocks still in use belong to tensors that outlive the backend (a leak). */
    @Override public synchronized void close() {
        releaseCached();
    }
}
