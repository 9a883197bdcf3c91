package jresnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jresnet.tensor.Shape;
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
}
