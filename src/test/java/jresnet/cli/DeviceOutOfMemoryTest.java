package jresnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import jresnet.backend.cuda.GpuAvailability;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Running out of GPU memory, on an emulated device made small: one line that says what to do. */
@Tag("gpu")
class DeviceOutOfMemoryTest {

    @Test
    void outOfDeviceMemoryIsAOneLineErrorThatSuggestsASmallerBatch(@TempDir Path tmp) throws Exception {
        assumeTrue(GpuAvailability.emulatedDevice().isPresent(), "needs the emulated device, whose memory size can be set");
        assumeTrue(GpuAvailability.skipReason().isEmpty(), () -> GpuAvailability.skipReason().orElse(""));
        Path log = tmp.resolve("bench.log");
        int status = GpuAvailability.runOnEmulatedDevice(Map.of("JRESNET_EMULATED_DEVICE_MEMORY", String.valueOf(48L << 20)),
                log, "bench", "--model", "resnet30", "--device", "cuda", "--batch-size", "128", "--steps", "1", "--warmup", "0");
        String printed = Files.readString(log);
        assertEquals(1, status, printed);
        String error = printed.lines().filter(l -> l.startsWith("error: ")).findFirst().orElse("");
        assertTrue(error.startsWith("error: GPU out of memory: cuMemAlloc(") && error.endsWith("at batch size 128; try --batch-size 64"),
                printed);
        assertEquals(1, printed.lines().filter(l -> l.startsWith("error") || l.startsWith("\tat ")).count(), printed);
    }
}
