package jresnet.cli;

import java.io.PrintStream;
import jresnet.UserException;
import jresnet.backend.Backend;
import jresnet.backend.cpu.CpuBackend;
import jresnet.backend.cuda.CudaBackend;
import jresnet.backend.cuda.Doctor;
import jresnet.backend.cuda.DoctorReport;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.io.CacheFolder;
import jresnet.io.TuningFiles;

/** Opens the backend a --device flag names. */
final class Devices {
    static final String[] NAMES = {"auto", "cuda", "cpu", "reference"};

    private Devices() {}

    static Backend open(String device, PrintStream notices) {
        return switch (device) {
            case "cuda" -> cuda();
            case "cpu" -> cpu();
            case "reference" -> new ReferenceBackend();
            case "auto" -> {
                DoctorReport report = Doctor.run();
                if (report.ok()) yield CudaBackend.open();
                String reason = report.lines().stream().filter(l -> l.startsWith("FAIL")).findFirst()
                        .map(l -> l.substring(4).strip().split(";| in \\[")[0]).orElse("CUDA is not usable here");
                notices.println("notice: CUDA unavailable (" + reason + "), using the CPU backend; `jresnet doctor` says more");
                yield cpu();
            }
            default -> throw new UsageException("--device: expected one of auto|cuda|cpu|reference, got '" + device + "'");
        };
    }

    /** The CUDA backend the user asked for: why it cannot open names the flag. */
    private static Backend cuda() {
        try {
            return CudaBackend.open();
        } catch (UserException e) {
            throw new UserException("--device cuda: " + e.getMessage(), e);
        }
    }

    /** The CPU backend, keeping its measurements of this machine in the cache folder. */
    private static Backend cpu() { return new CpuBackend(new TuningFiles(CacheFolder.root())); }
}
