package jresnet.backend.cpu;

import static jresnet.backend.cpu.CpuTensor.array;

import jresnet.tensor.Tensor;

/**
 * Dense layers for {@link CpuBackend} on the same {@link Sgemm} (forward X·K; backward dY·Kᵀ and
 * Xᵀ·dY through strides), split by rows of the result.
 */
final class CpuDense {
    private final WorkerPool pool;
    private float[] packedKernel = new float[0];

    CpuDense(WorkerPool pool) { this.pool = pool; }

    private float[] packedKernel(int size) {
        if (packedKernel.length < size) packedKernel = new float[size];
        return packedKernel;
    }

    void denseForward(Tensor x, Tensor kernel, Tensor bias, Tensor y) {
        int rows = x.shape().dim(0), in = x.shape().dim(1), out = y.shape().dim(1);
        float[] a = array(x), b = array(bias), o = array(y);
        float[] packed = packedKernel(Sgemm.packedSize(in, out));
        Sgemm.packB(pool, array(kernel), 0, out, 1, in, out, packed);
        pool.runRanges(rows, Sgemm.MR, (from, to, w) -> {
            Sgemm.multiply(to - from, out, in, a, from * in, in, 1, packed, o, from * out, out, false);
            Vectors.addToRows(o, from * out, to - from, b, out);
        });
    }

    void denseBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dKernel, Tensor dBias) {
        int rows = x.shape().dim(0), in = x.shape().dim(1), out = dy.shape().dim(1);
        float[] a = array(x), gout = array(dy), gk = array(dKernel);
        if (dx != null) {
            // dx = dy · kernelᵀ: B(kk, j) = kernel[j, kk].
            float[] gin = array(dx), packedT = packedKernel(Sgemm.packedSize(out, in));
            Sgemm.packB(pool, array(kernel), 0, 1, out, out, in, packedT);
            pool.runRanges(rows, Sgemm.MR, (from, to, w) ->
                    Sgemm.multiply(to - from, in, out, gout, from * out, out, 1, packedT, gin, from * in, in, false));
        }
        // dKernel = xᵀ · dy, each thread a block of kernel rows: A(i, n) = x[n, i].
        float[] packedDy = packedKernel(Sgemm.packedSize(rows, out));
        Sgemm.packB(pool, gout, 0, out, 1, rows, out, packedDy);
        pool.runRanges(in, Sgemm.MR, (from, to, w) ->
                Sgemm.multiply(to - from, out, rows, a, from, 1, in, packedDy, gk, from * out, out, false));
        float[] gb = array(dBias);
        for (int j = 0; j < out; j++) {
            double sum = 0;
            for (int n = 0; n < rows; n++) sum += gout[n * out + j];
            gb[j] = (float) sum;
        }
    }
}
