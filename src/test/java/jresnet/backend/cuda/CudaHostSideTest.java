package jresnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import jresnet.tensor.Shape;
import jcuda.Pointer;
import org.junit.jupiter.api.Test;

/** The host-side arithmetic of the CUDA backend: kernel layout translation and pool size classes. */
class CudaHostSideTest {

    @Test
    void kernelLayoutPutsOutputChannelsFirstAndRoundTrips() {
        Shape s = Shape.of(3, 2, 4, 5); // kh, kw, in, out
        float[] keras = new float[s.elements()];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < keras.length; i++) keras[i] = (float) random.nextDouble();

        float[] stored = CudaBackend.kerasToStoredKernel(keras, s);
        // keras [h=2, w=1, in=3, out=4] sits at stored [out=4, h=2, w=1, in=3].
        assertEquals(keras[((2 * 2 + 1) * 4 + 3) * 5 + 4], stored[((4 * 3 + 2) * 2 + 1) * 4 + 3]);
        float[] back = new float[keras.length];
        CudaBackend.storedKernelToKeras(stored, s, back);
        assertArrayEquals(keras, back);
    }

    @Test
    void sizeClassesCoverTheRequestWithBoundedWaste() {
        assertEquals(512, DevicePool.sizeClass(0));
        assertEquals(512, DevicePool.sizeClass(512));
        assertEquals(1024, DevicePool.sizeClass(513));
        assertEquals(2L << 20, DevicePool.sizeClass(2L << 20));
        assertEquals(4L << 20, DevicePool.sizeClass((2L << 20) + 1));
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 10_000; i++) {
            long bytes = random.nextLong(1, 1L << 32);
            long size = DevicePool.sizeClass(bytes);
            assertTrue(size >= bytes && size < 2 * bytes + 512 && size - bytes < Math.max(bytes, 2L << 20),
                    bytes + " -> " + size);
        }
    }

    @Test
    void launchesAreCheckedAgainstTheKernelsParameterKinds() {
        KernelSignatures s = KernelSignatures.parse("add\tpointer,pointer,pointer,long\nscale\tpointer,float,int\nnone\t\n");
        s.check("add", new Object[] {new Pointer(), null, new Pointer(), 12L});
        s.check("scale", new Object[] {new Pointer(), 0.5f, 3});
        String message = assertThrows(IllegalArgumentException.class,
                () -> s.check("add", new Object[] {new Pointer(), new Pointer(), new Pointer(), 12})).getMessage();
        assertEquals("kernel add argument 3: expected long, got Integer", message);
        assertThrows(IllegalArgumentException.class, () -> s.check("scale", new Object[] {new Pointer(), 0.5, 3}));
        assertThrows(IllegalArgumentException.class, () -> s.check("scale", new Object[] {3, 0.5f, 3}));
        assertEquals("kernel scale takes 3 arguments, got 2",
                assertThrows(IllegalArgumentException.class, () -> s.check("scale", new Object[] {null, 0.5f})).getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.check("missing", new Object[0]));
        s.check("none", new Object[0]);
    }

    @Test
    void theBuildRecordsEveryKernelsParameterKinds() throws Exception {
        assumeTrue(KernelModule.present(), "built without nvcc: no kernels");
        try (InputStream in = KernelModule.class.getResourceAsStream(KernelModule.SIGNATURES)) {
            assertTrue(in != null, "the fatbin is there, its signatures are not");
            KernelSignatures s = KernelSignatures.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            s.check("relu_bn_stat_finalize", new Object[] {null, 1, 2, 3, 0.9f, 1e-3f, null, null, null, null});
            s.check("adam_update", new Object[] {null, null, 1f, 0.9f, 0.999f, 1e-7f});
        }
    }
}
