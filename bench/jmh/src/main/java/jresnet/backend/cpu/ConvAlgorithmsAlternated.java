package jresnet.backend.cpu;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.tensor.Shape;

/**
 * im2col + SGEMM against Winograd F(2x2) and F(4x4) on shared, loaded machines, where JMH's wall-clock rates swing by
 * several times: the algorithms run alternately, call by call, on one thread, timed in that
 * thread's CPU time (what other processes take from the core does not count). Prints, per shape and
 * pass, the best and median GFLOP/s of the second half of the calls (the first half warms the JIT).
 *
 * <p>{@code java --add-modules jdk.incubator.vector -cp ... jresnet.backend.cpu.ConvAlgorithmsAlternated
 * CALLS BATCH SHAPE...}, SHAPE as inH x inW x inC : outC (3 x 3, stride 1, "same"), e.g.
 * {@code 40 128 32x32x16:16 16x16x32:32 8x8x64:64}.
 */
public final class ConvAlgorithmsAlternated {
    private static final String[] PASSES = {"forward", "backward-data", "backward-filter"};
    /**
     * {@code -Dalgorithms=im2col,4x4} (the default) or {@code im2col,2x2}: measure the two Winograd
     * sizes in separate JVMs, since the JIT compiles their shared tile loops for the sizes it has
     * seen, and with both in one JVM both run at half speed.
     */
    private static final String[] NAMES = System.getProperty("algorithms", "im2col,4x4").split(",");
    private static final ConvolutionRule[] RULES = java.util.Arrays.stream(NAMES).map(name -> switch (name) {
        case "im2col" -> ConvolutionRule.IM2COL;
        case "2x2" -> ConvolutionRule.WINOGRAD_2X2;
        case "4x4" -> ConvolutionRule.WINOGRAD_4X4;
        default -> throw new IllegalArgumentException("-Dalgorithms: im2col, 2x2 or 4x4, got " + name);
    }).toArray(ConvolutionRule[]::new);

    public static void main(String[] args) {
        int calls = Integer.parseInt(args[0]), batch = Integer.parseInt(args[1]);
        ThreadMXBean cpuTime = ManagementFactory.getThreadMXBean();
        for (int a = 2; a < args.length; a++) {
            String[] parts = args[a].split(":"), in = parts[0].split("x");
            ConvGeometry g = ConvGeometry.of(Shape.of(batch, Integer.parseInt(in[0]), Integer.parseInt(in[1]), Integer.parseInt(in[2])),
                    3, 3, Integer.parseInt(parts[1]), 1, Padding.SAME);
            CpuBackend[] backends = new CpuBackend[NAMES.length];
            for (int b = 0; b < backends.length; b++) backends[b] = new CpuBackend(1, RULES[b]);
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
                StringBuilder line = new StringBuilder(String.format("%-14s %-16s", args[a], PASSES[p]));
                for (int b = 0; b < backends.length; b++) {
                    long[] sorted = warm(nanos[p][b]);
                    line.append(String.format(" | %s best %6.1f median %6.1f", NAMES[b], g.forwardFlops() / (double) sorted[0],
                            g.forwardFlops() / (double) sorted[sorted.length / 2]));
                }
                System.out.println(line.append(" GFLOP/s"));
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
