package jresnet.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Where a multi-threaded SGEMM 2048² loses against one core's speed times the threads. First the
 * product as the dense layer runs it ({@link Sgemm#packB} on the pool, then {@link WorkerPool#runRanges}
 * blocks of rows to whichever worker is free) next to other cuts of the rows, alternated round by
 * round; then the dense layer's cut with each worker's blocks timed, and one such block alone on the
 * calling thread. Together they split the loss into packing, one vCPU running slower than another
 * (the faster worker waits at the end) and the kernel's speed on blocks of that height. Outside JMH
 * because it times parts of one product. Run:
 * <pre>
 * java --add-modules jdk.incubator.vector \
 *     -cp bench/jmh/target/classes:$(cat bench/jmh/target/runtime.classpath) jresnet.backend.cpu.SgemmSplits
 * </pre>
 */
public final class SgemmSplits {
    private static final int N = 2048, ROUNDS = 8, PRODUCTS_PER_TIMING = 4;

    private SgemmSplits() {}

    public static void main(String[] args) {
        SplittableRandom random = new SplittableRandom(1);
        float[] a = new float[N * N], b = new float[N * N], c = new float[N * N], packed = new float[Sgemm.packedSize(N, N)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextDouble();
            b[i] = (float) random.nextDouble();
        }
        try (WorkerPool pool = new WorkerPool(Runtime.getRuntime().availableProcessors())) {
            int threads = pool.threads();
            System.out.printf("%d threads, %d-bit vectors, micro-tile %d rows%n", threads, Vectors.BITS, Sgemm.MR);
            List<int[]> cuts = List.of(new int[0], blocks(512), blocks((N / threads + Sgemm.MR - 1) / Sgemm.MR * Sgemm.MR));
            List<String> names = List.of("dense layer's cut", "blocks of 512 rows", "one block per thread");
            System.out.println("GFLOP/s, B packed each time, " + PRODUCTS_PER_TIMING + " products per figure:");
            for (int round = 0; round < ROUNDS; round++) {
                StringBuilder line = new StringBuilder("  ");
                for (int cut = 0; cut < cuts.size(); cut++) {
                    int[] starts = cuts.get(cut);
                    long start = System.nanoTime();
                    for (int r = 0; r < PRODUCTS_PER_TIMING; r++) {
                        Sgemm.packB(pool, b, 0, N, 1, N, N, packed);
                        if (starts.length == 0) {
                            pool.runRanges(N, Sgemm.MR, (from, to, w) -> multiply(a, packed, c, from, to));
                        } else {
                            pool.run(starts.length - 1, (block, w) -> multiply(a, packed, c, starts[block], starts[block + 1]));
                        }
                    }
                    line.append(String.format("%s %.1f   ", names.get(cut), 2.0 * N * N * N * PRODUCTS_PER_TIMING / (System.nanoTime() - start)));
                }
                System.out.println(line);
            }
            System.out.println("The dense layer's cut, block by block (ms):");
            for (int round = 0; round < ROUNDS; round++) timeBlocks(pool, a, b, packed, c);
        }
    }

    /** Block starts for blocks of {@code height} rows, the last ending at N. */
    private static int[] blocks(int height) {
        List<Integer> starts = new ArrayList<>();
        for (int row = 0; row < N; row += height) starts.add(row);
        starts.add(N);
        return starts.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void multiply(float[] a, float[] packed, float[] c, int from, int to) {
        Sgemm.multiply(to - from, N, N, a, from * N, N, 1, packed, c, from * N, N, false);
    }

    private static void timeBlocks(WorkerPool pool, float[] a, float[] b, float[] packed, float[] c) {
        int threads = pool.threads();
        long[] busy = new long[threads];
        int[] blocks = new int[threads], height = new int[1];
        long start = System.nanoTime();
        Sgemm.packB(pool, b, 0, N, 1, N, N, packed);
        long packedAt = System.nanoTime();
        pool.runRanges(N, Sgemm.MR, (from, to, w) -> {
            long blockStart = System.nanoTime();
            multiply(a, packed, c, from, to);
            busy[w] += System.nanoTime() - blockStart; // each worker writes only its own slot
            blocks[w]++;
            if (from == 0) height[0] = to;
        });
        long end = System.nanoTime();
        long aloneStart = System.nanoTime();
        multiply(a, packed, c, 0, height[0]);
        double alone = (System.nanoTime() - aloneStart) / 1e6;
        StringBuilder line = new StringBuilder(String.format("  pack %.2f, blocks %.1f (%.1f GFLOP/s with the pack);",
                (packedAt - start) / 1e6, (end - packedAt) / 1e6, 2.0 * N * N * N / (end - start)));
        for (int w = 0; w < threads; w++) {
            line.append(String.format(" worker %d: %d blocks, %.2f each;", w, blocks[w], busy[w] / 1e6 / Math.max(1, blocks[w])));
        }
        System.out.println(line.append(String.format(" a block of %d rows alone: %.2f", height[0], alone)));
    }
}
