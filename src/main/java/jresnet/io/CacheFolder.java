package jresnet.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.function.Function;
import jresnet.UserException;

/**
 * The folder jresnet keeps what it can rebuild: the downloaded CIFAR-10 and the CPU kernels' tuning
 * for this machine. {@code -Djresnet.cacheDir=DIR} (a leading ~ is the home folder) moves it; else
 * $XDG_CACHE_HOME/jresnet, else ~/.cache/jresnet, where ~ is $HOME as the shell has it (the JVM's
 * own user.home comes from the password file and ignores $HOME). A user with neither gets a folder
 * of their own, by uid, in the temporary folder.
 */
public final class CacheFolder {
    public static final String PROPERTY = "jresnet.cacheDir";

    private CacheFolder() {}

    /** The folder, absolute; a -Djresnet.cacheDir that names no possible folder is the user's error, in words. */
    public static Path root() {
        return root(System.getProperty(PROPERTY), System::getenv, System.getProperty("user.home", "?"));
    }

    static Path root(String flag, Function<String, String> env, String userHome) {
        Path home = home(env, userHome);
        if (flag != null && !flag.isBlank()) {
            try {
                boolean tilde = home != null && (flag.equals("~") || flag.startsWith("~/"));
                return (tilde ? home.resolve(flag.substring(Math.min(2, flag.length()))) : Path.of(flag)).toAbsolutePath().normalize();
            } catch (InvalidPathException e) {
                throw new UserException("-D" + PROPERTY + "=" + flag + ": not a usable folder name (" + e.getReason() + ")");
            }
        }
        Path xdg = absolute(env.apply("XDG_CACHE_HOME"));
        if (xdg != null) return xdg.resolve("jresnet");
        if (home != null) return home.resolve(".cache").resolve("jresnet");
        return Path.of(System.getProperty("java.io.tmpdir")).resolve("jresnet-cache-" + uid());
    }

    private static Path home(Function<String, String> env, String userHome) {
        Path fromShell = absolute(env.apply("HOME"));
        return fromShell != null ? fromShell : absolute(userHome);
    }

    /** The path where {@code value} is an absolute one ("?" is the JVM's word for no home). */
    private static Path absolute(String value) {
        if (value == null || value.isBlank()) return null;
        try {
            Path p = Path.of(value);
            return p.isAbsolute() ? p : null;
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /** The real uid on Linux, so that two users without a home do not share one folder; else the JVM's user name. */
    private static String uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return line.substring(4).trim().split("\\s+")[0];
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("user.name", "unknown").replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
