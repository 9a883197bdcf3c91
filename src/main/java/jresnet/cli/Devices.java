package jresnet.cli;

import java.io.PrintStream;
import jresnet.backend.Backend;
import jresnet.backend.reference.ReferenceBackend;

/** Opens the backend a --device flag names. */
final class Devices {
    static final String[] NAMES = {"auto", "cuda", "cpu", "reference"};

    private Devices() {}

    static Backend open(String device, PrintStream notices) {
        return switch (device) {
            case "reference" -> new ReferenceBackend();
            default -> throw new UsageException("--device: expected one of auto|cuda|cpu|reference, got '" + device + "'");
        };
    }
}
