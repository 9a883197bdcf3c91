package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * Host-to-device uploads, double-buffered: two slots, each a pinned (cuMemAllocHost) host buffer and
 * a device buffer, used in turn. The host-to-device copy runs on a copy stream into the slot's device
 * buffer, so it overlaps whatever the compute stream is still doing (the previous step, which may be
 * reading the destination tensor); the compute stream then waits for the copy and moves the data into
 * the destination with a device-to-device copy, in order with its other work. An upload returns as soon
 * as the data sit in pinned memory.
 */
final class PinnedStaging implements AutoCloseable {

    private static final class Slot {
        Pointer host = new Pointer();
        DevicePool.Block device;
        long capacity;
        /** Recorded on the copy stream after the host-to-device copy. */
        final CUevent copied = new CUevent();
        /** Recorded on the compute stream after the device-to-device copy out of the slot. */
        final CUevent consumed = new CUevent();
    }

    private final DevicePool pool;
    private final CUstream computeStream;
    private final CUstream copyStream = new CUstream();
    private final Slot[] slots = {new Slot(), new Slot()};
    private int next;

    PinnedStaging(DevicePool pool, CUstream computeStream) {
        this.pool = pool;
        this.computeStream = computeStream;
        CudaCheck.driver(cuStreamCreate(copyStream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate(copy)");
        for (Slot s : slots) {
            CudaCheck.driver(cuEventCreate(s.copied, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            CudaCheck.driver(cuEventCreate(s.consumed, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            // Recorded once so the first waits on a fresh slot return at once.
            CudaCheck.driver(cuEventRecord(s.copied, copyStream), "cuEventRecord");
            CudaCheck.driver(cuEventRecord(s.consumed, computeStream), "cuEventRecord");
        }
    }

    /** Queues the upload of the first count values into dst; the caller's array may be reused at return. */
    void upload(float[] values, int count, CudaTensor dst, String what) {
        Slot slot = slots[next];
        next = (next + 1) % slots.length;
        long bytes = (long) count * Float.BYTES;
        // The slot's previous copy must have left pinned memory before it is overwritten.
        CudaCheck.driver(cuEventSynchronize(slot.copied), what + ": waiting for a staging slot");
        if (slot.capacity < bytes) grow(slot, bytes, what);
        slot.host.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asFloatBuffer().put(values, 0, count);
        CudaCheck.driver(cuStreamWaitEvent(copyStream, slot.consumed, 0), what);
        CudaCheck.driver(cuMemcpyHtoDAsync(slot.device.ptr, slot.host, bytes, copyStream), what + ": cuMemcpyHtoDAsync");
        CudaCheck.driver(cuEventRecord(slot.copied, copyStream), what);
        CudaCheck.driver(cuStreamWaitEvent(computeStream, slot.copied, 0), what);
        CudaCheck.driver(cuMemcpyDtoDAsync(dst.ptr(), slot.device.ptr, bytes, computeStream), what + ": cuMemcpyDtoDAsync");
        CudaCheck.driver(cuEventRecord(slot.consumed, computeStream), what);
    }

    private void grow(Slot slot, long bytes, String what) {
        CudaCheck.driver(cuEventSynchronize(slot.consumed), what + ": waiting for a staging slot");
        free(slot);
        slot.host = new Pointer();
        CudaCheck.driver(cuMemAllocHost(slot.host, bytes), what + ": cuMemAllocHost(" + bytes + " bytes)");
        slot.device = pool.acquire(bytes);
        CudaCheck.driver(cuEventRecord(slot.consumed, computeStream), what);
        slot.capacity = bytes;
    }

    private void free(Slot slot) {
        if (slot.capacity == 0) return;
        CudaCheck.driver(cuMemFreeHost(slot.host), "cuMemFreeHost(staging)");
        pool.release(slot.device);
        slot.capacity = 0;
    }

    @Override public void close() {
        for (Slot s : slots) {
            CudaCheck.driver(cuEventSynchronize(s.copied), "closing the staging slots");
            CudaCheck.driver(cuEventSynchronize(s.consumed), "closing the staging slots");
            free(s);
            CudaCheck.driver(cuEventDestroy(s.copied), "cuEventDestroy");
            CudaCheck.driver(cuEventDestroy(s.consumed), "cuEventDestroy");
        }
        CudaCheck.driver(cuStreamDestroy(copyStream), "cuStreamDestroy(copy)");
    }
}
