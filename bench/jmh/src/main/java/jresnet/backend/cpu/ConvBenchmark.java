package jresnet.backend.cpu;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.tensor.Shape;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * The CPU backend's three convolution passes on every distinct convolution shape of resnet20 (He et
 * al.) and resnet30 (the Keras tutorial), all threads. The "gflop" counter column is GFLOP/s
 * (2·K·K·Cin·Cout·Hout·Wout per call for each pass, whatever the algorithm does: Winograd's rate is
 * then the direct convolution's rate it is worth). {@code -p algorithm=im2col,winograd} compares the two.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
public class ConvBenchmark {
    /** inH x inW x inC : outC : kernel : stride, "same" padding. */
    @Param({
            // resnet20
            "32x32x3:16:3:1", "32x32x16:16:3:1", "32x32x16:32:3:2", "16x16x32:32:3:1", "16x16x32:64:3:2",
            "8x8x64:64:3:1",
            // resnet30
            "32x32x3:64:3:1", "32x32x64:64:3:1", "32x32x64:128:3:2", "32x32x64:128:1:2", "16x16x128:128:3:1",
            "16x16x128:256:3:2", "16x16x128:256:1:2", "8x8x256:256:3:1", "8x8x256:512:3:2", "8x8x256:512:1:2",
            "4x4x512:512:3:1"})
    public String shape;

    @Param({"128"})
    public int batch;

    /** "rule": what the backend picks on this machine; "im2col" or "winograd" forces one (where it applies). */
    @Param({"rule"})
    public String algorithm;

    private CpuBackend backend;
    private CpuTensor x, kernel, y, dx, dKernel, dy;
    private ConvGeometry geometry;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        /** Billions of floating-point operations done; as a rate, GFLOP/s. */
        public double gflop;

        @Setup(Level.Iteration) public void reset() { gflop = 0; }
    }

    @Setup public void setUp() {
        String[] parts = shape.split(":");
        String[] in = parts[0].split("x");
        geometry = ConvGeometry.of(Shape.of(batch, Integer.parseInt(in[0]), Integer.parseInt(in[1]), Integer.parseInt(in[2])),
                Integer.parseInt(parts[2]), Integer.parseInt(parts[2]), Integer.parseInt(parts[1]), Integer.parseInt(parts[3]),
                Padding.SAME);
        int threads = Runtime.getRuntime().availableProcessors();
        backend = switch (algorithm) {
            case "rule" -> new CpuBackend(threads);
            case "im2col" -> new CpuBackend(threads, ConvolutionRule.IM2COL);
            case "winograd" -> new CpuBackend(threads, ConvolutionRule.WINOGRAD);
            default -> throw new IllegalArgumentException("algorithm must be rule, im2col or winograd, got " + algorithm);
        };
        SplittableRandom random = new SplittableRandom(1);
        x = filled(geometry.inputShape(), random);
        kernel = filled(geometry.kernelShape(), random);
        dy = filled(geometry.outputShape(), random);
        y = backend.allocate(geometry.outputShape());
        dx = backend.allocate(geometry.inputShape());
        dKernel = backend.allocate(geometry.kernelShape());
    }

    private CpuTensor filled(Shape shape, SplittableRandom random) {
        CpuTensor t = backend.allocate(shape);
        for (int i = 0; i < t.size(); i++) t.data()[i] = (float) (random.nextDouble() - 0.5);
        return t;
    }

    @TearDown public void tearDown() { backend.close(); }

    @Benchmark public void forward(Flops flops) {
        backend.conv2dForward(x, kernel, null, y, geometry);
        flops.gflop += geometry.forwardFlops() / 1e9;
    }

    @Benchmark public void backwardData(Flops flops) {
        backend.conv2dBackwardData(dy, kernel, dx, geometry);
        flops.gflop += geometry.forwardFlops() / 1e9;
    }

    @Benchmark public void backwardFilter(Flops flops) {
        backend.conv2dBackwardFilter(x, dy, dKernel, null, geometry);
        flops.gflop += geometry.forwardFlops() / 1e9;
    }
}
