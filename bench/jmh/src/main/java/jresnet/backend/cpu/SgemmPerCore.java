package jresnet.backend.cpu;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;

/**
 * One core's SGEMM, own kernel against OpenBLAS, on the shapes the backend runs: a 1026-row slice of
 * the 2048² product (one thread's share in {@link SgemmCeilingBenchmark}) and the forward
 * convolutions of resnet20/resnet30 as im2col blocks (M ≈ 4096 pixels, K = 9·Cin, N = Cout). Both
 * run on the calling thread and are timed by its CPU time, best of several rounds, so other jobs'
 * time slices on a shared machine do not count (their cache traffic still does). Run with
 * {@code OPENBLAS_NUM_THREADS=1}:
 * <pre>
 * OPENBLAS_NUM_THREADS=1 java --add-modules jdk.incubator.vector \
 *     -cp bench/jmh/target/classes:$(cat bench/jmh/target/runtime.classpath) jresnet.backend.cpu.SgemmPerCore
 * </pre>
 */
public final class SgemmPerCore {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** {N, K} = {Cout, 9·Cin} of the 3 x 3 convolutions timed. */
    private static final int[][] CONVOLUTIONS = {{16, 144}, {32, 144}, {32, 288}, {64, 288}, {64, 576}, {128, 576}, {512, 576}};
    private static final int PIXELS = 4096;

    private SgemmPerCore() {}

    public static void main(String[] args) {
        if (!"1".equals(System.getenv("OPENBLAS_NUM_THREADS"))) {
            System.err.println("SgemmPerCore: set OPENBLAS_NUM_THREADS=1 so that OpenBLAS runs on the timed thread only");
            System.exit(2);
        }
        Loader.load(openblas.class);
        System.out.println("| M x N x K | own GFLOP/s | OpenBLAS GFLOP/s |");
        System.out.println("|---|---|---|");
        report(1026, 1026, 2048, 2048);
        for (int[] shape : CONVOLUTIONS) {
            // CpuConvolution's block: about 64K floats of im2col rows, at least 128, whole micro-tiles
            int block = Math.max(128, (1 << 16) / shape[1]) / Sgemm.MR * Sgemm.MR;
            report(PIXELS / block * block, block, shape[0], shape[1]);
        }
    }

    private static void report(int m, int block, int n, int k) {
        float[] a = values(m * k, 1), b = values(k * n, 2), c = new float[m * n], packed = new float[Sgemm.packedSize(k, n)];
        Sgemm.packB(b, 0, n, 1, k, n, packed);
        double own = rate(m, n, k, () -> {
            for (int row0 = 0; row0 < m; row0 += block) {
                int count = Math.min(block, m - row0);
                Sgemm.multiply(count, n, k, a, row0 * k, k, 1, packed, c, row0 * n, n, false);
            }
        });
        double blas;
        try (FloatPointer na = new FloatPointer(a); FloatPointer nb = new FloatPointer(b); FloatPointer nc = new FloatPointer(c)) {
            blas = rate(m, n, k, () -> openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans,
                    openblas.CblasNoTrans, m, n, k, 1f, na, k, nb, n, 0f, nc, n));
        }
        System.out.printf("| %d x %d x %d | %.1f | %.1f |%n", m, n, k, own, blas);
    }

    /** GFLOP/s of the best round by this thread's CPU time; a round runs about 0.2 GFLOP. */
    private static double rate(int m, int n, int k, Runnable product) {
        double flops = 2.0 * m * n * k, best = Double.MAX_VALUE;
        int repeats = (int) Math.max(1, 2e8 / flops), rounds = flops > 1e9 ? 6 : 40;
        for (int round = 0; round < rounds; round++) {
            long start = THREADS.getCurrentThreadCpuTime();
            for (int r = 0; r < repeats; r++) product.run();
            best = Math.min(best, (THREADS.getCurrentThreadCpuTime() - start) / (double) repeats);
        }
        return flops / best;
    }

    private static float[] values(int size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = (float) random.nextDouble();
        return v;
    }
}
