package jresnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import jresnet.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Native library lookup and the JCudnn/JCuda version bridge, checked without a GPU. */
class CudaLibrariesTest {

    @Test
    void offersTheJCudnnNativeUnderTheNameJCudasLoaderAsksFor(@TempDir Path dir) throws Exception {
        Path offered = CudaLibraries.offerJCudnnNative(dir);

        assertEquals("libJCudnn-" + jcuda.JCudaVersion.get() + "-linux-x86_64.so", offered.getFileName().toString());
        assertEquals("libJCudnn-12.6.0-linux-x86_64.so", offered.getFileName().toString());
        byte[] original;
        try (InputStream in = getClass().getResourceAsStream("/lib/libJCudnn-11.7.0-linux-x86_64.so")) {
            original = in.readAllBytes();
        }
        assertArrayEquals(original, Files.readAllBytes(offered));
        // Offering again leaves the identical file alone.
        long modified = Files.getLastModifiedTime(offered).toMillis();
        CudaLibraries.offerJCudnnNative(dir);
        assertEquals(modified, Files.getLastModifiedTime(offered).toMillis());
    }

    @Test
    void loadingTheOfferedNativeFailsOnlyForTheMissingCudnn(@TempDir Path dir) {
        assumeTrue(CudaLibraries.find("libcudnn.so.8").isEmpty(), "libcudnn.so.8 is installed here");
        Path offered = CudaLibraries.offerJCudnnNative(dir);

        UnsatisfiedLinkError error = assertThrows(UnsatisfiedLinkError.class,
                () -> System.load(offered.toAbsolutePath().toString()));
        // The JCudnn file itself was found and opened: what is missing is its dependency.
        assertTrue(error.getMessage().contains(offered.toString()), error.getMessage());
        assertTrue(error.getMessage().contains("libcudnn.so.8: cannot open shared object file"), error.getMessage());
    }

    @Test
    void findsLibrariesThroughTheLinkerSearchPath() {
        assertTrue(CudaLibraries.find("libc.so.6").isPresent(), "libc.so.6 must be found on any Linux");
        assertTrue(CudaLibraries.find("libjresnet-does-not-exist.so.1").isEmpty());
    }

    @Test
    void aMissingDriverIsAUserErrorNamingTheFix() {
        assumeTrue(CudaLibraries.find("libcuda.so.1").isEmpty(), "a CUDA driver is installed here");
        UserException e = assertThrows(UserException.class, () -> CudaLibraries.resolve(CudaLibraries.DRIVER));
        assertTrue(e.getMessage().contains("libcuda.so.1 not found"), e.getMessage());
        assertTrue(e.getMessage().contains("install the NVIDIA driver"), e.getMessage());
    }

    @Test
    void cudnn9WithTheBuiltForwarderResolvesToTheForwarder(@TempDir Path dir) throws Exception {
        Path forwarder = Path.of("target/native/libcudnn.so.8").toAbsolutePath();
        assumeTrue(Files.isRegularFile(forwarder), "no forwarder built (no gcc)");
        assumeTrue(CudaLibraries.find("libcudnn.so.8").isEmpty(), "libcudnn.so.8 is installed here");
        assumeTrue(CudaLibraries.find("libcudnn.so.9").isEmpty(), "libcudnn.so.9 is installed here");
        // Without libcudnn.so.9 the forwarder alone is not enough: the message names what is missing.
        UserException e = assertThrows(UserException.class, () -> CudaLibraries.resolve(CudaLibraries.CUDNN));
        assertTrue(e.getMessage().contains("libcudnn.so.8 (or libcudnn.so.9) not found"), e.getMessage());
        assertTrue(CudaLibraries.forwarderDirectories().stream()
                .anyMatch(d -> d.toAbsolutePath().normalize().equals(forwarder.getParent())),
                "target/native must be searched for forwarders: " + CudaLibraries.forwarderDirectories());
        assertFalse(CudaLibraries.offeredJCudnnFileName().contains("11.7.0"));
    }
}
