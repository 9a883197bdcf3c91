package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
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
 * Host-to-device uploads through two pinned (cuMemAllocHost) slots used in turn, copied on a separate
 * copy stream. An upload returns as soon as its data sit in pinned memory: the host prepares the next
 * batch while the device still computes the previous step, and the copy itself runs asynchronously.
 * Ordering: the copy waits for the compute work queued before it (the step that may still read the
 * destination), and compute queued after it waits for the copy.
 */
final class PinnedStaging implements AutoCloseable {

    private static final class Slot {
        Pointer host = new Pointer();
        long capacity;
        final CUevent copied = new CUevent();
    }

    private final CUstream computeStream;
    private final CUstream copyStream = new CUstream();
    private final CUevent computeReached = new CUevent();
    private final Slot[] slots = {new Slot(), new Slot()};
    private int next;

    PinnedStaging(CUstream computeStream) {
        this.computeStream = computeStream;
        CudaCheck.driver(cuStreamCreate(copyStream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate(copy)");
        CudaCheck.driver(cuEventCreate(computeReached, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        for (Slot s : slots) {
            CudaCheck.driver(cuEventCreate(s.copied, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            // Recorded once so the first wait on a fresh slot returns at once.
            CudaCheck.driver(cuEventRecord(s.copied, copyStream), "cuEventRecord");
        }
    }

    /** Queues the upload of the first count values into dst; the caller's array may be reused at return. */
    void upload(float[] values, int count, CudaTensor dst, String what) {
        Slot slot = slots[next];
        next = (next + 1) % slots.length;
        long bytes = (long) count * Float.BYTES;
        // The slot's previous copy must have left pinned memory before it is overwritten.
        CudaCheck.driver(cuEventSynchronize(slot.copied), what + ": waiting for a staging slot");
        if (slot.capacity < bytes) {
            if (slot.capacity > 0) cuMemFreeHost(slot.host);
            slot.host = new Pointer();
            CudaCheck.driver(cuMemAllocHost(slot.host, bytes), what + ": cuMemAllocHost(" + bytes + " bytes)");
            slot.capacity = bytes;
        }
        slot.host.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asFloatBuffer().put(values, 0, count);
        CudaCheck.driver(cuEventRecord(computeReached, computeStream), what);
        CudaCheck.driver(cuStreamWaitEvent(copyStream, computeReached, 0), what);
        CudaCheck.driver(cuMemcpyHtoDAsync(dst.ptr(), slot.host, bytes, copyStream), what + ": cuMemcpyHtoDAsync");
        CudaCheck.driver(cuEventRecord(slot.copied, copyStream), what);
        CudaCheck.driver(cuStreamWaitEvent(computeStream, slot.copied, 0), what);
    }

    @Override public void close() {
        for (Slot s : slots) {
            cuEventSynchronize(s.copied);
            if (s.capacity > 0) cuMemFreeHost(s.host);
            cuEventDestroy(s.copied);
        }
        cuEventDestroy(computeReached);
        cuStreamDestroy(copyStream);
    }
}
