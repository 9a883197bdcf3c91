package jresnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import jresnet.UserException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Where the cache lives: the flag, else the home folder, else the temporary folder. */
class CacheFolderTest {
    private String savedFolder, savedHome;

    @BeforeEach void save() {
        savedFolder = System.getProperty(CacheFolder.PROPERTY);
        savedHome = System.getProperty("user.home");
    }

    @AfterEach void restore() {
        set(CacheFolder.PROPERTY, savedFolder);
        set("user.home", savedHome);
    }

    @Test void theFlagWinsOverTheHomeFolder() {
        System.setProperty(CacheFolder.PROPERTY, "/some/where");
        assertEquals(Path.of("/some/where"), CacheFolder.root());
    }

    @Test void withoutTheFlagItIsUnderTheHomeFolder() {
        System.clearProperty(CacheFolder.PROPERTY);
        System.setProperty("user.home", "/home/someone");
        assertEquals(Path.of("/home/someone/.cache/jresnet"), CacheFolder.root());
    }

    @Test void aUserWithoutAHomeGetsTheTemporaryFolderNotTheWorkingDirectory() {
        System.clearProperty(CacheFolder.PROPERTY);
        System.setProperty("user.home", "?");
        Path root = CacheFolder.root();
        assertTrue(root.isAbsolute(), root.toString());
        assertEquals(Path.of(System.getProperty("java.io.tmpdir"), "jresnet-cache"), root);
    }

    @Test void aFlagThatNamesNoFolderIsAnErrorInWords() {
        System.setProperty(CacheFolder.PROPERTY, "bad\0name");
        UserException e = assertThrows(UserException.class, CacheFolder::root);
        assertTrue(e.getMessage().startsWith("-Djresnet.cacheDir=bad"), e.getMessage());
        assertTrue(e.getMessage().contains("not a usable folder name"), e.getMessage());
    }

    private static void set(String name, String value) {
        if (value == null) System.clearProperty(name);
        else System.setProperty(name, value);
    }
}
