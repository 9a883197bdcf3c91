package jresnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Whether the `gpu` tests can run here. They run on a real GPU, or on the emulated device that the
 * Maven build makes (native-build/emulated-device.sh) and puts on LD_LIBRARY_PATH for its
 * emulated-device test run. Where that device was built, a failing doctor is a bug, not a missing GPU.
 */
public final class GpuAvailability {
    private static DoctorReport report;

    private GpuAvailability() {}

    /** Empty when CUDA training can run; else why the gpu tests skip (doctor's findings). */
    public static synchronized Optional<String> skipReason() {
        if (report == null) {
            report = Doctor.run();
            System.out.println("gpu tests, doctor says:\n" + String.join("\n", report.lines()));
        }
        if (report.ok()) return Optional.empty();
        String reason = "no usable CUDA device:\n" + String.join("\n", report.lines());
        assertTrue(emulatedDevice().isEmpty() || !KernelModule.present(),
                "the emulated device in " + emulatedDevice().orElse("") + " is built but " + reason);
        return Optional.of(reason);
    }

    /** The emulated device's folder when this run is meant for it and the build made it. */
    public static Optional<String> emulatedDevice() {
        return Optional.ofNullable(System.getProperty("jresnet.emulatedDevice"))
                .filter(dir -> Files.isRegularFile(Path.of(dir, "libcuda.so.1")));
    }

    /**
     * Runs the command line in a child JVM on the emulated device, with extra environment variables for
     * it (call counts, memory size); returns the exit status, output in log.
     */
    public static int runOnEmulatedDevice(Map<String, String> environment, Path log, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "jresnet.cli.Main"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("LD_LIBRARY_PATH", emulatedDevice().orElseThrow());
        pb.environment().putAll(environment);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError(String.join(" ", args) + " did not finish in 120 s");
        }
        return p.exitValue();
    }
}
