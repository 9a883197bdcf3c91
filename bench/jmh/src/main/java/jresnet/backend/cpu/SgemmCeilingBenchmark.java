package jresnet.backend.cpu;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's SGEMM ceiling: a large square C = A·B on OpenBLAS (all cores, its own threading)
 * next to the backend's own Vector-API SGEMM split over all cores by row blocks. The "gflop"
 * counter column is GFLOP/s (2·n³ per call).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class SgemmCeilingBenchmark {
    @Param({"2048"})
    public int n;

    private float[] a, b, c, packedB;
    private FloatPointer nativeA, nativeB, nativeC;
    private WorkerPool pool;

    @Setup public void setUp() {
        Loader.load(openblas.class);
        SplittableRandom random = new SplittableRandom(1);
        a = new float[n * n];
        b = new float[n * n];
        c = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextDouble();
            b[i] = (float) random.nextDouble();
        }
        nativeA = new FloatPointer(a);
        nativeB = new FloatPointer(b);
        nativeC = new FloatPointer(c);
        packedB = new float[Sgemm.packedSize(n, n)];
        pool = new WorkerPool(Runtime.getRuntime().availableProcessors());
    }

    @TearDown public void tearDown() {
        pool.close();
        nativeA.close();
        nativeB.close();
        nativeC.close();
    }

    @Benchmark public void openblas(ConvBenchmark.Flops flops) {
        openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans, n, n, n,
                1f, nativeA, n, nativeB, n, 0f, nativeC, n);
        flops.gflop += 2.0 * n * n * n / 1e9;
    }

    /**
     * As the backend's dense layer runs it: B packed on all threads, then blocks of rows shared out,
     * long ones first and short ones last (WorkerPool.rangeStarts), so that a core slowed by another
     * guest takes fewer.
     */
    @Benchmark public void vectorApi(ConvBenchmark.Flops flops) {
        Sgemm.packB(pool, b, 0, n, 1, n, n, packedB);
        pool.runRanges(n, Sgemm.MR, (from, to, w) -> Sgemm.multiply(to - from, n, n, a, from * n, n, 1, packedB, c, from * n, n, false));
        flops.gflop += 2.0 * n * n * n / 1e9;
    }
}
