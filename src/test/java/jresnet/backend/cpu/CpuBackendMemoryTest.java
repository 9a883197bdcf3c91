package jresnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import jresnet.models.HeNets;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.optim.Sgd;
import org.junit.jupiter.api.Test;

/**
 * Scratch buffers (im2col, packed kernels, partial sums) are kept across steps: once warm, a training
 * step allocates only small bookkeeping objects, less than the smallest activation tensor.
 */
class CpuBackendMemoryTest {
    @Test void warmStepsAllocateNothingOfTensorSize() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Model model = HeNets.resnet(8);
        int batch = 16;
        long smallestActivation = 4L * batch * 8 * 8 * 64;
        SplittableRandom random = new SplittableRandom(1);
        float[] images = new float[batch * 32 * 32 * 3], labels = new float[batch];
        for (int i = 0; i < images.length; i++) images[i] = random.nextInt(256);
        for (int i = 0; i < batch; i++) labels[i] = random.nextInt(10);
        try (CpuBackend cpu = new CpuBackend(); Executor ex = new Executor(model, cpu, batch)) {
            ex.attachOptimizer(new Sgd(new long[0], new double[] {0.1}, 0.9, 1e-4));
            // Until the JIT has compiled the Vector-API code (and after any deoptimization) vectors are
            // boxed on the heap, so the claim is about the steady state: some window of warm steps.
            int steps = 5;
            long perStep = Long.MAX_VALUE;
            for (int window = 0; window < 60 && perStep >= smallestActivation; window++) {
                long before = allocatedByAllThreads(threads);
                for (int s = 0; s < steps; s++) ex.trainStep(images, labels, batch);
                perStep = (allocatedByAllThreads(threads) - before) / steps;
            }
            assertTrue(perStep < smallestActivation, "a warm step allocated " + perStep
                    + " bytes; the smallest activation is " + smallestActivation);
        }
    }

    private static long allocatedByAllThreads(com.sun.management.ThreadMXBean threads) {
        long total = 0;
        for (long bytes : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) total += Math.max(0, bytes);
        return total;
    }
}
