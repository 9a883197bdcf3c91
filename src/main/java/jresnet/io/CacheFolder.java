package jresnet.io;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import jresnet.UserException;

/**
 * The folder jresnet keeps what it can rebuild: the downloaded CIFAR-10 and the CPU kernels' tuning
 * for this machine. {@code -Djresnet.cacheDir=DIR} moves it (the build's tests keep theirs under
 * target/), else it is ~/.cache/jresnet, or the temporary folder's jresnet-cache for a user without a
 * home.
 */
public final class CacheFolder {
    public static final String PROPERTY = "jresnet.cacheDir";

    private CacheFolder() {}

    /** The folder; a -Djresnet.cacheDir that names no possible folder is the user's error, in words. */
    public static Path root() {
        String dir = System.getProperty(PROPERTY);
        if (dir != null && !dir.isBlank()) {
            try {
                return Path.of(dir);
            } catch (InvalidPathException e) {
                throw new UserException("-D" + PROPERTY + "=" + dir + ": not a usable folder name (" + e.getReason() + ")");
            }
        }
        // A user without a home (a container's arbitrary uid) gets "?" from the JVM: not a folder to
        // create under the working directory.
        Path home = Path.of(System.getProperty("user.home", "?"));
        return home.isAbsolute() ? home.resolve(".cache").resolve("jresnet") : Path.of(System.getProperty("java.io.tmpdir"), "jresnet-cache");
    }
}
