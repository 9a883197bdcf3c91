package jresnet.backend.cpu;

import jresnet.io.CacheFolder;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jresnet.backend.ConvGeometry;
import jresnet.backend.Padding;
import jresnet.io.CacheFolder;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * Once warm, the convolution GEMMs allocate nothing, whichever layer the JIT met first. A Vector-API
 * kernel that C2 inlines past its per-compilation node budget, or that stays in the lower tiers,
 * keeps its vectors boxed on the heap (Sgemm's class comment): a 16-channel layer first (one-panel
 * GEMMs at 512 bits) and a 32-channel one after made {@code multiply} recompile with two copies of
 * the paired kernel inlined, the second boxed, 10x slower. So the check runs in fresh JVMs with this
 * JVM's vector flags, three times, since the compiler's timing varies from one JVM to the next.
 */
class SgemmCompilationTest {
    /** Convolutions per measured window; with a boxed kernel each allocates megabytes. */
    private static final int CALLS = 10;
    /** Bytes a warm call may allocate: a task object and a kernel transform's scratch row, not vectors. */
    private static final long BOOKKEEPING = 1024;

    @Test void warmConvolutionGemmsAllocateNothingAfterANarrowerLayer() throws Exception {
        for (int jvm = 0; jvm < 3; jvm++) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                // the JVM flags choose the kernels; the cache folder keeps the child's tuning out of ~/.cache
                if (flag.startsWith("-XX:") || flag.startsWith("--add-modules") || flag.startsWith("-D" + CacheFolder.PROPERTY + "=")) command.add(flag);
            }
            if (command.stream().noneMatch(f -> f.contains("jdk.incubator.vector"))) command.add("--add-modules=jdk.incubator.vector");
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), NarrowThenWide.class.getName()));
            Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
            String printed = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            child.waitFor(120, TimeUnit.SECONDS);
            assertEquals(0, child.exitValue(), "JVM " + (jvm + 1) + " of 3: " + printed);
        }
    }

    /** Runs in the child JVM: exits 1 when a late window of 16-, 32- or 128-channel convolutions allocated. */
    static final class NarrowThenWide {
        public static void main(String[] args) {
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            try (WorkerPool pool = new WorkerPool(1)) {
                Winograd winograd = new Winograd(pool);
                new Layer(32, 16).forward(winograd, 30);
                // Every window is measured, since the recompilation that went wrong came after some
                // calls of the wide layer had run allocation-free; the last windows are the steady state.
                long wide = worstLateWindow(new Layer(16, 32), winograd, threads);
                // 128 output channels take the kernels on packed rows of A
                long widest = worstLateWindow(new Layer(8, 128), winograd, threads);
                // and the 16-channel layer again, once the others have shaped the compiled multiply
                long narrow = worstLateWindow(new Layer(32, 16), winograd, threads);
                System.out.println("warm Winograd convolutions allocated up to " + wide + " bytes per call (16x16x32 -> 32), "
                        + widest + " (8x8x128 -> 128) and " + narrow + " (32x32x16 -> 16) in the last 4 of 12 windows");
                long worst = Math.max(narrow, Math.max(wide, widest));
                System.exit(worst > BOOKKEEPING ? 1 : 0);
            }
        }
    }

    private static long worstLateWindow(Layer layer, Winograd winograd, com.sun.management.ThreadMXBean threads) {
        long worst = 0;
        for (int window = 0; window < 12; window++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            layer.forward(winograd, CALLS);
            if (window >= 8) worst = Math.max(worst, (threads.getCurrentThreadAllocatedBytes() - before) / CALLS);
        }
        return worst;
    }

    /** A 3 x 3 "same" convolution of a batch of 128 images with its operands, allocated up front. */
    private record Layer(ConvGeometry g, float[] x, float[] kernel, float[] y) {
        Layer(int side, int channels) {
            this(ConvGeometry.of(Shape.of(128, side, side, channels), 3, 3, channels, 1, Padding.SAME));
        }

        Layer(ConvGeometry g) {
            this(g, new float[(int) g.inputShape().size()], new float[(int) g.kernelShape().size()],
                    new float[(int) g.outputShape().size()]);
            for (int i = 0; i < x.length; i++) x[i] = i % 7 - 3;
            for (int i = 0; i < kernel.length; i++) kernel[i] = (i % 5 - 2) / 8f;
        }

        void forward(Winograd winograd, int calls) {
            for (int call = 0; call < calls; call++) winograd.forward(x, kernel, null, y, g);
        }
    }
}
