package jresnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import jresnet.UserException;
import org.junit.jupiter.api.Test;

/** Where the cache lives: the flag, else $XDG_CACHE_HOME, else $HOME, else the JVM's home, else the temporary folder. */
class CacheFolderTest {
    private static Path root(String flag, Map<String, String> env, String userHome) {
        return CacheFolder.root(flag, env::get, userHome);
    }

    @Test void theFlagWinsAndIsMadeAbsolute() {
        Map<String, String> env = Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "/xdg");
        assertEquals(Path.of("/some/where"), root("/some/where", env, "/root"));
        assertEquals(Path.of("").toAbsolutePath().resolve("rel/cache"), root("rel/cache", env, "/root"));
        assertEquals(Path.of("/home/u/tuning"), root("~/tuning", env, "/root"), "a leading ~ is $HOME, as in a shell");
        assertEquals(Path.of("/home/u"), root("~", env, "/root"));
    }

    @Test void withoutTheFlagXdgThenHomeFromTheShell() {
        assertEquals(Path.of("/xdg/jresnet"), root(null, Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "/xdg"), "/root"));
        assertEquals(Path.of("/home/u/.cache/jresnet"), root("", Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "relative"), "/nonexistent"),
                "$HOME over the password file's home, a relative XDG_CACHE_HOME ignored (as the XDG spec says)");
        assertEquals(Path.of("/root/.cache/jresnet"), root(null, Map.of(), "/root"));
    }

    @Test void aUserWithoutAHomeGetsAFolderOfTheirOwnInTheTemporaryFolder() {
        Path root = root(null, Map.of(), "?");
        assertTrue(root.isAbsolute(), root.toString());
        assertEquals(Path.of(System.getProperty("java.io.tmpdir")), root.getParent());
        assertTrue(root.getFileName().toString().startsWith("jresnet-cache-"), root.toString());
        assertNotEquals("jresnet-cache-", root.getFileName().toString());
    }

    @Test void aFlagThatNamesNoFolderIsAnErrorInWords() {
        UserException e = assertThrows(UserException.class, () -> root("bad\0name", Map.of(), "/root"));
        assertTrue(e.getMessage().startsWith("-Djresnet.cacheDir=bad"), e.getMessage());
        assertTrue(e.getMessage().contains("not a usable folder name"), e.getMessage());
    }
}
