package jresnet.backend.cpu;

import static jresnet.backend.cpu.CpuTensor.array;
import static jresnet.backend.cpu.CpuTensor.elements;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import jresnet.tensor.Tensor;

/** Adam and SGD with momentum for {@link CpuBackend}: every parameter cut into ELEMENT_CHUNK tasks. */
final class CpuOptimizers {
    private static final VectorSpecies<Float> S = Vectors.SPECIES;
    private static final int L = Vectors.LANES;

    private final WorkerPool pool;

    CpuOptimizers(WorkerPool pool) { this.pool = pool; }

    /** Runs {@code update(param, from, to)} over every parameter, cut into tasks of WorkerPool.ELEMENT_CHUNK elements. */
    private void overParameters(Tensor[] params, ParameterRange update) {
        int[] firstTask = new int[params.length + 1];
        for (int p = 0; p < params.length; p++) {
            firstTask[p + 1] = firstTask[p] + (elements(params[p]) + WorkerPool.ELEMENT_CHUNK - 1) / WorkerPool.ELEMENT_CHUNK;
        }
        pool.run(firstTask[params.length], (task, w) -> {
            int p = 0;
            while (firstTask[p + 1] <= task) p++;
            int from = (task - firstTask[p]) * WorkerPool.ELEMENT_CHUNK;
            update.run(p, from, Math.min(elements(params[p]), from + WorkerPool.ELEMENT_CHUNK));
        });
    }

    private interface ParameterRange {
        void run(int param, int from, int to);
    }

    void adamUpdate(Tensor[] params, Tensor[] grads, Tensor[] m, Tensor[] v,
                                     double lrT, double beta1, double beta2, double epsilon) {
        float b1 = (float) beta1, b2 = (float) beta2, lr = (float) lrT, eps = (float) epsilon;
        overParameters(params, (p, from, to) -> {
            float[] w = array(params[p]), g = array(grads[p]), mp = array(m[p]), vp = array(v[p]);
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector gv = FloatVector.fromArray(S, g, i);
                FloatVector mv = FloatVector.fromArray(S, mp, i).mul(b1).add(gv.mul(1 - b1));
                FloatVector vv = FloatVector.fromArray(S, vp, i).mul(b2).add(gv.mul(gv).mul(1 - b2));
                mv.intoArray(mp, i);
                vv.intoArray(vp, i);
                FloatVector.fromArray(S, w, i).sub(mv.mul(lr).div(vv.sqrt().add(eps))).intoArray(w, i);
            }
            for (; i < to; i++) {
                mp[i] = b1 * mp[i] + (1 - b1) * g[i];
                vp[i] = b2 * vp[i] + (1 - b2) * g[i] * g[i];
                w[i] -= lr * mp[i] / ((float) Math.sqrt(vp[i]) + eps);
            }
        });
    }

    void sgdUpdate(Tensor[] params, Tensor[] grads, Tensor[] velocity,
                                    double lr, double momentum, double weightDecay, boolean nesterov) {
        float rate = (float) lr, mu = (float) momentum, decay = (float) weightDecay;
        overParameters(params, (p, from, to) -> {
            float[] w = array(params[p]), g = array(grads[p]), vel = array(velocity[p]);
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector wv = FloatVector.fromArray(S, w, i);
                FloatVector gv = FloatVector.fromArray(S, g, i);
                FloatVector vv = FloatVector.fromArray(S, vel, i).mul(mu).add(gv).add(wv.mul(decay));
                vv.intoArray(vel, i);
                FloatVector step = nesterov ? gv.add(wv.mul(decay)).add(vv.mul(mu)) : vv;
                wv.sub(step.mul(rate)).intoArray(w, i);
            }
            for (; i < to; i++) {
                float wi = w[i];
                vel[i] = mu * vel[i] + g[i] + decay * wi;
                w[i] = wi - rate * (nesterov ? g[i] + decay * wi + mu * vel[i] : vel[i]);
            }
        });
    }
}
