package jresnet.backend.cpu;

import static jresnet.backend.cpu.CpuTensor.array;
import static jresnet.backend.cpu.CpuTensor.elements;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import jresnet.tensor.Tensor;

/** Elementwise ops of {@link CpuBackend}: vectorized, split into ELEMENT_CHUNK tasks over all workers. */
final class CpuElementwise {
    private static final VectorSpecies<Float> S = Vectors.SPECIES;
    private static final int L = Vectors.LANES;

    private final WorkerPool pool;

    CpuElementwise(WorkerPool pool) { this.pool = pool; }

    void copy(Tensor src, Tensor dst) {
        float[] s = array(src), d = array(dst);
        pool.runRanges(elements(src), WorkerPool.ELEMENT_CHUNK, (from, to, w) -> System.arraycopy(s, from, d, from, to - from));
    }

    void reluForward(Tensor x, Tensor y) {
        float[] in = array(x), out = array(y);
        pool.runRanges(elements(x), WorkerPool.ELEMENT_CHUNK, (from, to, w) -> {
            int i = from;
            for (; i + L <= to; i += L) FloatVector.fromArray(S, in, i).max(0f).intoArray(out, i);
            for (; i < to; i++) out[i] = Math.max(in[i], 0f);
        });
    }

    void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        float[] in = array(x), gout = array(dy), gin = array(dx);
        pool.runRanges(elements(x), WorkerPool.ELEMENT_CHUNK, (from, to, w) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector.fromArray(S, gout, i).blend(0f, FloatVector.fromArray(S, in, i).compare(VectorOperators.LE, 0f))
                        .intoArray(gin, i);
            }
            for (; i < to; i++) gin[i] = in[i] > 0 ? gout[i] : 0f;
        });
    }

    void add(Tensor a, Tensor b, Tensor out) {
        float[] l = array(a), r = array(b), o = array(out);
        pool.runRanges(elements(out), WorkerPool.ELEMENT_CHUNK, (from, to, w) -> {
            int i = from;
            for (; i + L <= to; i += L) FloatVector.fromArray(S, l, i).add(FloatVector.fromArray(S, r, i)).intoArray(o, i);
            for (; i < to; i++) o[i] = l[i] + r[i];
        });
    }

    void addReluForward(Tensor a, Tensor b, Tensor y) {
        float[] l = array(a), r = array(b), o = array(y);
        pool.runRanges(elements(y), WorkerPool.ELEMENT_CHUNK, (from, to, w) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector.fromArray(S, l, i).add(FloatVector.fromArray(S, r, i)).max(0f).intoArray(o, i);
            }
            for (; i < to; i++) o[i] = Math.max(l[i] + r[i], 0f);
        });
    }
}
