package jresnet.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import jresnet.UserException;

/**
 * Files and folders that appear complete or not at all, also across a crash or power loss: content
 * goes to a temporary sibling, is flushed to disk, then renamed over the target, and the rename
 * itself is flushed by syncing the parent folder.
 */
public final class AtomicFiles {
    private static final int BUFFER_BYTES = 1 << 16;
    /** The names {@link #tempName} gives. */
    private static final Pattern TEMPORARY = Pattern.compile("\\..+\\.tmp-[0-9a-f]+");

    private AtomicFiles() {}

    /**
     * Refuses an output file whose folder is missing, not a folder or not writable, naming the flag
     * that gave it; checked before any work, so that a long command does not end in a failed write
     * that names a temporary file.
     */
    public static void requireWritableFolder(String flag, Path output) {
        requireWritable(flag, output, output.toAbsolutePath().getParent());
    }

    /**
     * As {@link #requireWritableFolder}, for an output folder that is made along with any missing
     * folders above it: a file in the place of it or of one above, or the nearest existing folder not
     * writable (also the folder itself, where a run's lock file goes first), is named with the flag
     * instead of failing later on some inner path.
     */
    public static void requireCreatableFolder(String flag, Path folder) {
        Path existing = folder.toAbsolutePath();
        if (Files.exists(existing) && !Files.isDirectory(existing)) throw new UserException(flag + " " + folder + ": is a file, not a folder");
        while (!Files.exists(existing)) existing = existing.getParent(); // the root exists
        requireWritable(flag, folder, existing);
    }

    private static void requireWritable(String flag, Path given, Path checked) {
        // named normalized ("/tmp/./x" reads as a path nobody wrote), checked as given: through a
        // symbolic link, "lnk/.." is not the folder that dropping both names as text leaves
        Path folder = checked.normalize();
        if (!Files.isDirectory(checked)) {
            throw new UserException(flag + " " + given + ": folder " + folder
                    + (Files.exists(checked) ? " is not a folder (it is a file)" : " does not exist"));
        }
        if (!Files.isWritable(checked)) throw new UserException(flag + " " + given + ": folder " + folder + " is not writable");
    }

    /**
     * Writes target through body. When body or any step fails, the old target is untouched and the
     * temporary file is gone. Body must not close the stream (closing it only flushes).
     */
    public static void write(Path target, IoConsumer<OutputStream> body) throws IOException {
        Path dir = parentOf(target);
        Path tmp;
        try {
            tmp = createTempFile(dir, target.getFileName().toString());
        } catch (IOException e) {
            throw FileErrors.about(target, "write", e);
        }
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(channel), BUFFER_BYTES);
                // Failures of the file itself (a full disk) name the target; the body's own failures pass unchanged.
                body.accept(new FilterOutputStream(buffered) {
                    @Override public void write(byte[] b, int off, int len) throws IOException {
                        try {
                            out.write(b, off, len);
                        } catch (IOException e) {
                            throw FileErrors.about(target, "write", e);
                        }
                    }

                    @Override public void flush() throws IOException {
                        try {
                            out.flush();
                        } catch (IOException e) {
                            throw FileErrors.about(target, "write", e);
                        }
                    }

                    @Override public void close() throws IOException { flush(); }
                });
                try {
                    buffered.flush();
                    channel.force(true);
                } catch (IOException e) {
                    throw FileErrors.about(target, "write", e);
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw FileErrors.about(target, "replace", e);
            }
        } catch (Throwable failure) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
        syncDirectory(dir);
    }

    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    /**
     * Moves {@code file} to the first free name {@code NAME.edited.EXT}, {@code NAME.edited-2.EXT}, ...
     * beside it and returns that name: a user's file that the run would write over stays, under a
     * name that says why, and never replaces another file.
     */
    public static Path moveAside(Path file) throws IOException {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.') > 0 ? name.lastIndexOf('.') : name.length();
        for (int n = 1; ; n++) {
            Path target = file.resolveSibling(name.substring(0, dot) + ".edited" + (n == 1 ? "" : "-" + n) + name.substring(dot));
            try {
                // without REPLACE_EXISTING the move refuses a taken name instead of replacing it
                Files.move(file, target);
                syncDirectory(parentOf(file));
                return target;
            } catch (FileAlreadyExistsException taken) {
                // the next number
            }
        }
    }

    /**
     * An empty temporary folder beside target (same file system, so {@link #publishDirectory} can
     * rename it into place). The folder holding target must exist.
     */
    public static Path createTempDirectory(Path target) throws IOException {
        Path dir = parentOf(target);
        while (true) {
            try {
                return Files.createDirectory(dir.resolve(tempName(target.getFileName().toString())));
            } catch (FileAlreadyExistsException taken) {
                // another name on the next round
            }
        }
    }

    /**
     * Moves a fully written folder to target, replacing an older target: the old one is renamed
     * away, the new one renamed in, then the old one deleted. Every file in the new folder is
     * flushed first. Both must be on the same file system. A crash between the two renames leaves
     * the old folder under a hidden ".NAME.old-*" name beside target.
     */
    public static void publishDirectory(Path finishedTmpDir, Path target) throws IOException {
        syncTree(finishedTmpDir);
        Path parent = parentOf(target);
        Path tmpParent = parentOf(finishedTmpDir);
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(finishedTmpDir, target, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(parent);
            if (!tmpParent.equals(parent)) syncDirectory(tmpParent);
            return;
        }
        Path old = parent.resolve("." + target.getFileName() + ".old-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(finishedTmpDir, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException failure) {
            try {
                Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException restore) {
                failure.addSuppressed(restore);
            }
            throw failure;
        }
        syncDirectory(parent);
        if (!tmpParent.equals(parent)) syncDirectory(tmpParent);
        deleteRecursively(old);
    }

    /**
     * Finishes what a crash inside {@link #publishDirectory} (or while writing a temporary folder)
     * left: when target is missing but an old copy survived under ".NAME.old-*", that copy is the last
     * complete one and goes back into place; leftover old copies and temporary folders are deleted.
     * Only the process that owns the folder (see RunLock) may call this.
     */
    public static void recoverDirectory(Path target) throws IOException {
        Path parent = parentOf(target);
        String name = target.getFileName().toString();
        List<Path> old = new ArrayList<>(), temporary = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, "." + name + ".*")) {
            for (Path p : entries) {
                String n = p.getFileName().toString();
                if (n.startsWith("." + name + ".old-")) old.add(p);
                else if (n.startsWith("." + name + ".tmp-")) temporary.add(p);
            }
        }
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !old.isEmpty()) {
            // Only one rename-away can be pending: publishDirectory deletes the old copy before returning.
            Files.move(old.remove(0), target, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(parent);
        }
        for (Path p : old) deleteRecursively(p);
        for (Path p : temporary) deleteRecursively(p);
    }

    /**
     * Deletes the temporary files that a killed process left in dir (".NAME.tmp-*" beside the files
     * it was replacing). Only the process that owns the folder (see RunLock) may call this.
     */
    public static void removeTemporaryFiles(Path dir) throws IOException {
        List<Path> leftovers = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, ".*.tmp-*")) {
            for (Path p : entries) {
                if (TEMPORARY.matcher(p.getFileName().toString()).matches()) leftovers.add(p);
            }
        }
        for (Path p : leftovers) deleteRecursively(p);
    }

    /** Deletes a file or a folder with everything in it; links are removed, not followed. Absent is fine. */
    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                if (failure != null) throw failure;
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Flushes a folder's entries (renames, creations) to disk. */
    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Windows cannot open a folder as a channel; its renames need no folder sync. Elsewhere it is a real failure.
            if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) throw e;
        }
    }

    private static void syncTree(Path root) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                        channel.force(true);
                    }
                }
                return FileVisitResult.CONTINUE;
            }

            @Override public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                if (failure != null) throw failure;
                syncDirectory(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static Path createTempFile(Path dir, String name) throws IOException {
        while (true) {
            try {
                return Files.createFile(dir.resolve(tempName(name)));
            } catch (FileAlreadyExistsException taken) {
                // another name on the next round
            } catch (NoSuchFileException missingFolder) {
                throw new NoSuchFileException(dir.toString(), null, "folder does not exist");
            } catch (AccessDeniedException denied) {
                throw new AccessDeniedException(dir.toString(), null, "cannot create a file in this folder");
            }
        }
    }

    private static String tempName(String name) {
        return "." + name + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
    }

    private static Path parentOf(Path target) {
        Path parent = target.toAbsolutePath().getParent();
        if (parent == null) throw new IllegalArgumentException("cannot replace the file system root " + target);
        return parent;
    }
}
