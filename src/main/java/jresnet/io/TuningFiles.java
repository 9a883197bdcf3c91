package jresnet.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import jresnet.backend.cpu.TuningStore;

/**
 * The CPU backend's measurements of this machine as files in a folder (the cache folder, for the
 * command line). Best effort: a file that cannot be read is measured again, and one that cannot be
 * written leaves the measurement to this run, with the reason in words.
 */
public final class TuningFiles implements TuningStore {
    private final Path folder;

    public TuningFiles(Path folder) { this.folder = folder; }

    @Override public String read(String name) {
        try {
            return Files.readString(folder.resolve(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null; // missing or unreadable: measured again
        }
    }

    @Override public String write(String name, String text) {
        Path file = folder.resolve(name);
        if (Files.exists(folder) && !Files.isDirectory(folder)) return "not cached: " + folder + " is not a folder";
        if (Files.isDirectory(file)) return "not cached: " + file + " is a folder"; // not replaced: whatever is in it is not ours
        try {
            Files.createDirectories(folder);
            AtomicFiles.writeString(file, text);
            return "cached in " + file;
        } catch (IOException e) {
            return "not cached: " + FileErrors.describe(e);
        }
    }

    @Override public String location(String name) { return folder.resolve(name).toString(); }
}
