package jresnet;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the real CIFAR-10 folder is for tests: -Djresnet.data (set by the build) or $JRESNET_DATA. */
public final class TestData {
    private TestData() {}

    public static Path cifar10() {
        String dir = System.getProperty("jresnet.data", System.getenv("JRESNET_DATA"));
        assumeTrue(dir != null && Files.isRegularFile(Path.of(dir, "data_batch_1.bin")),
                "real CIFAR-10 not found (set -Djresnet.data or JRESNET_DATA): " + dir);
        return Path.of(dir);
    }
}
