package jresnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import org.junit.jupiter.api.Test;

class DoctorTest {

    @Test
    void withoutADriverReportsNotOkAndSaysHowToFixIt() {
        assumeTrue(CudaLibraries.find("libcuda.so.1").isEmpty(), "a CUDA driver is installed here");

        DoctorReport report = Doctor.run();

        assertFalse(report.ok());
        String first = report.lines().get(0);
        assertTrue(first.startsWith("FAIL  driver: ") && first.contains("libcuda.so.1 not found")
                && first.contains("install the NVIDIA driver"), String.join("\n", report.lines()));
        assertTrue(report.lines().stream().anyMatch(l -> l.startsWith("FAIL  cuDNN: ")), String.join("\n", report.lines()));
        if (KernelModule.present()) {
            assertTrue(report.lines().stream().anyMatch(l -> l.startsWith("ok    kernels: ")
                    && l.contains("loading it needs a device")), String.join("\n", report.lines()));
        }
        assertFalse(CudaBackend.available());
    }

    @Test
    void unexpectedFailuresAreReportedInWordsWithoutAClassName() {
        assertEquals("a native library did not load: libcudnn.so.8: cannot open shared object file",
                Doctor.unexpected(new UnsatisfiedLinkError("libcudnn.so.8: cannot open shared object file")));
        assertEquals("a library's Java classes did not load: CUDA_ERROR_NO_DEVICE", Doctor.unexpected(
                new ExceptionInInitializerError(new IllegalStateException("CUDA_ERROR_NO_DEVICE"))));
        assertEquals("a file could not be read: /opt/cuda/version.json", Doctor.unexpected(
                new UncheckedIOException(new AccessDeniedException("/opt/cuda/version.json"))));
        assertEquals("the library failed (no further detail)", Doctor.unexpected(new NullPointerException()));
    }
}
