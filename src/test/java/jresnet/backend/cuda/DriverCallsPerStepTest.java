package jresnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one training step asks of the driver, counted by the emulated libcuda: three `bench` runs that
 * differ only in their number of steps (2, 5, 8), in child JVMs, and the differences of their call
 * counts, which must be equal. A
 * step must not allocate (device or pinned memory), must upload its batch asynchronously from pinned
 * memory, and must read the loss back at most once; and a run must release all it created.
 */
@Tag("gpu")
class DriverCallsPerStepTest {

    @Test
    void aTrainingStepAllocatesNothingUploadsAsynchronouslyAndReadsBackOnce(@TempDir Path tmp) throws Exception {
        assumeTrue(GpuAvailability.emulatedDevice().isPresent(), "call counts come from the emulated libcuda");
        assumeTrue(GpuAvailability.skipReason().isEmpty(), () -> GpuAvailability.skipReason().orElse(""));
        Map<String, Long> two = calls(tmp, 2), five = calls(tmp, 5), more = calls(tmp, 8);
        Map<String, Double> perStep = new HashMap<>();
        for (String api : more.keySet()) {
            long first = five.getOrDefault(api, 0L) - two.getOrDefault(api, 0L), second = more.get(api) - five.getOrDefault(api, 0L);
            assertEquals(first, second, api + ": the same calls in every 3 steps");
            perStep.put(api, second / 3.0);
        }
        String all = "per step: " + perStep;

        assertEquals(0.0, perStep.getOrDefault("cuMemAlloc_v2", 0.0), all);
        assertEquals(0.0, perStep.getOrDefault("cuMemAllocHost_v2", 0.0), all);
        assertEquals(0.0, perStep.getOrDefault("cuMemFree_v2", 0.0), all);
        assertEquals(0.0, perStep.getOrDefault("cuMemcpyHtoD_v2", 0.0), "no synchronous upload; " + all);
        assertEquals(2.0, perStep.getOrDefault("cuMemcpyHtoDAsync_v2", 0.0), "images and labels; " + all);
        assertTrue(perStep.getOrDefault("cuMemcpyDtoH_v2", 0.0) <= 1, "the loss, once; " + all);
        assertEquals(0.0, perStep.getOrDefault("cuCtxSynchronize", 0.0), all);
        // One before the loss is read back, one from bench's own timing.
        assertTrue(perStep.getOrDefault("cuStreamSynchronize", 0.0) <= 2, all);
        // Everything the run created was released by the time it exited.
        for (String[] pair : new String[][] {{"cuMemAlloc_v2", "cuMemFree_v2"}, {"cuMemAllocHost_v2", "cuMemFreeHost"},
                {"cuStreamCreate", "cuStreamDestroy_v2"}, {"cuEventCreate", "cuEventDestroy_v2"},
                {"cuModuleLoadData", "cuModuleUnload"}, {"cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2"}}) {
            assertEquals(more.getOrDefault(pair[0], 0L), more.getOrDefault(pair[1], 0L), pair[0] + " against " + pair[1]);
        }
        assertTrue(perStep.getOrDefault("cuLaunchKernel", 0.0) > 0, all);
    }

    /** The emulated libcuda's call counts for `bench` of a small model with the given number of steps. */
    private static Map<String, Long> calls(Path tmp, int steps) throws Exception {
        Path counts = tmp.resolve("calls-" + steps + ".txt"), log = tmp.resolve("bench-" + steps + ".log");
        int status = GpuAvailability.runOnEmulatedDevice(Map.of("JRESNET_EMULATED_DEVICE_CALLS", counts.toString()), log,
                "bench", "--model", "tutorial-resnet-1-w2", "--device", "cuda", "--batch-size", "4",
                "--warmup", "1", "--steps", String.valueOf(steps));
        assertEquals(0, status, () -> "bench failed:\n" + read(log));
        Map<String, Long> result = new HashMap<>();
        for (String line : List.of(read(counts).split("\n"))) {
            String[] parts = line.split(" ");
            result.put(parts[0], Long.parseLong(parts[1]));
        }
        return result;
    }

    private static String read(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file) : "(" + file + " was not written)";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
