package jresnet.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Adam and SGD on CUDA (kernels/adam.cu, kernels/sgd.cu): one launch updates every parameter, through
 * a device table of pointers and sizes uploaded once per list of tensors (an optimizer passes the same
 * tensors every step).
 */
final class CudaOptimizers implements AutoCloseable {
    private final CudaContext device;
    private final Map<List<CudaTensor>, Table> tables = new HashMap<>();

    CudaOptimizers(CudaContext device) {
        this.device = device;
    }

    /** Tensors are interleaved per parameter: {w, g, m, v} for each. */
    void adam(List<CudaTensor> interleaved, double lrT, double beta1, double beta2, double epsilon) {
        Table table = table(interleaved, 4);
        device.launch("adam_update", table.gridX, table.parameters, CudaContext.THREADS, 1, table.slots.ptr,
                table.sizes.ptr, (float) lrT, (float) beta1, (float) beta2, (float) epsilon);
    }

    /** Tensors are interleaved per parameter: {w, g, velocity} for each. */
    void sgd(List<CudaTensor> interleaved, double lr, double momentum, double weightDecay, boolean nesterov) {
        Table table = table(interleaved, 3);
        device.launch("sgd_update", table.gridX, table.parameters, CudaContext.THREADS, 1, table.slots.ptr,
                table.sizes.ptr, (float) lr, (float) momentum, (float) weightDecay, nesterov ? 1 : 0);
    }

    private Table table(List<CudaTensor> tensors, int perParameter) {
        if (tensors.size() / perParameter > 65535) throw new IllegalArgumentException("more than 65535 parameters");
        return tables.computeIfAbsent(tensors, t -> new Table(t, perParameter));
    }

    private final class Table {
        final DevicePool.Block slots, sizes;
        final int parameters, gridX;

        Table(List<CudaTensor> tensors, int perParameter) {
            parameters = tensors.size() / perParameter;
            long[] sizeArray = new long[parameters];
            long largest = 0;
            CUdeviceptr[] pointers = new CUdeviceptr[tensors.size()];
            for (int i = 0; i < tensors.size(); i++) pointers[i] = tensors.get(i).ptr();
            for (int k = 0; k < parameters; k++) {
                sizeArray[k] = tensors.get(k * perParameter).elements();
                largest = Math.max(largest, sizeArray[k]);
            }
            slots = device.pool.acquire((long) pointers.length * Long.BYTES);
            sizes = device.pool.acquire((long) parameters * Long.BYTES);
            // Synchronous copies: Pointer.to(pointers) is a host array of the device addresses.
            CudaCheck.driver(cuMemcpyHtoD(slots.ptr, Pointer.to(pointers), (long) pointers.length * Long.BYTES),
                    "optimizer pointer table");
            CudaCheck.driver(cuMemcpyHtoD(sizes.ptr, Pointer.to(sizeArray), (long) parameters * Long.BYTES),
                    "optimizer size table");
            gridX = CudaContext.blocks(largest);
        }
    }

    @Override public void close() {
        for (Table t : tables.values()) {
            device.pool.release(t.slots);
            device.pool.release(t.sizes);
        }
        tables.clear();
    }
}
