package jresnet.io;

import java.nio.file.Path;

/**
 * The folder jresnet keeps what it can rebuild: the downloaded CIFAR-10 and the CPU kernels' tuning
 * for this machine. {@code -Djresnet.cacheDir=DIR} moves it (the build's tests keep theirs under
 * target/), else it is ~/.cache/jresnet.
 */
public final class CacheFolder {
    public static final String PROPERTY = "jresnet.cacheDir";

    private CacheFolder() {}

    public static Path root() {
        String dir = System.getProperty(PROPERTY);
        return dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "jresnet");
    }
}
