package jresnet.backend.cpu;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.tensor.Shape;

/**
 * im2col + SGEMM against Winograd on shared, loaded machines, where JMH's wall-clock rates swing by
 * several times: the two algorithms run alternately, call by call, on one thread, timed in that
 * thread's CPU time (what other processes take from the core does not count). Prints, per shape and
 * pass, the best and median GFLOP/s of the second half of the calls (the first half warms the JIT).
 *
 * <p>{@code java --add-modules jdk.incubator.vector -cp ... jresnet.backend.cpu.ConvAlgorithmsAlternated
 * CALLS BATCH SHAPE...}, SHAPE as inH x inW x inC : outC (3 x 3, stride 1, "same"), e.g.
 * {@code 40 128 32x32x16:16 16x16x32:32 8x8x64:64}.
 */
public final class ConvAlgorithmsAlternated {
    private static final String[] PASSES = {"forward", "backward-data", "backward-filter"};

    public static void main(String[] args) {
        int calls = Integer.parseInt(args[0]), batch = Integer.parseInt(args[1]);
        ThreadMXBean cpuTime = ManagementFactory.getThreadMXBean();
        for (int a = 2; a < args.length; a++) {
            String[] parts = args[a].split(":"), in = parts[0].split("x");
            ConvGeometry g = ConvGeometry.of(Shape.of(batch, Integer.parseInt(in[0]), Integer.parseInt(in[1]), Integer.parseInt(in[2])),
                    3, 3, Integer.parseInt(parts[1]), 1, Padding.SAME);
            CpuBackend[] backends = {new CpuBackend(1, ConvolutionRule.IM2COL), new CpuBackend(1, ConvolutionRule.WINOGRAD)};
            SplittableRandom random = new SplittableRandom(1);
            CpuTensor x = filled(g.inputShape(), random), kernel = filled(g.kernelShape(), random), dy = filled(g.outputShape(), random);
            CpuTensor y = filled(g.outputShape(), random), dx = filled(g.inputShape(), random), dKernel = filled(g.kernelShape(), random);
            long[][][] nanos = new long[PASSES.length][backends.length][calls];
            for (int i = 0; i < calls; i++) {
                for (int b = 0; b < backends.length; b++) {
                    long t0 = cpuTime.getCurrentThreadCpuTime();
                    backends[b].conv2dForward(x, kernel, null, y, g);
                    long t1 = cpuTime.getCurrentThreadCpuTime();
                    backends[b].conv2dBackwardData(dy, kernel, dx, g);
                    long t2 = cpuTime.getCurrentThreadCpuTime();
                    backends[b].conv2dBackwardFilter(x, dy, dKernel, null, g);
                    long t3 = cpuTime.getCurrentThreadCpuTime();
                    nanos[0][b][i] = t1 - t0;
                    nanos[1][b][i] = t2 - t1;
                    nanos[2][b][i] = t3 - t2;
                }
            }
            for (int p = 0; p < PASSES.length; p++) {
                long[] im2col = warm(nanos[p][0]), winograd = warm(nanos[p][1]);
                System.out.printf("%-14s %-16s im2col best %6.1f median %6.1f GFLOP/s | winograd best %6.1f median %6.1f GFLOP/s%n",
                        args[a], PASSES[p], g.forwardFlops() / (double) im2col[0], g.forwardFlops() / (double) im2col[im2col.length / 2],
                        g.forwardFlops() / (double) winograd[0], g.forwardFlops() / (double) winograd[winograd.length / 2]);
            }
            for (CpuBackend backend : backends) backend.close();
        }
    }

    /** The second half of the calls, sorted. */
    private static long[] warm(long[] nanos) {
        long[] warm = Arrays.copyOfRange(nanos, nanos.length / 2, nanos.length);
        Arrays.sort(warm);
        return warm;
    }

    private static CpuTensor filled(Shape shape, SplittableRandom random) {
        float[] values = new float[shape.elements()];
        for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextDouble() - 0.5);
        return new CpuTensor(shape, values);
    }
}
