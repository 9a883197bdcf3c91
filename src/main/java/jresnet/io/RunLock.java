package jresnet.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import jresnet.UserException;

/**
 * An exclusive lock on a run folder (file ".lock" holding the owner's pid). The operating system
 * drops the lock when its process dies, so a lock file left by a killed run is simply taken over.
 */
public final class RunLock implements AutoCloseable {
    public static final String FILE = ".lock";

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** The folder's lock; {@code advice} ends the line when another process holds it (what this command's user can do). */
    public static RunLock acquire(Path runDir, String advice) throws IOException {
        Path file = runDir.resolve(FILE);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String owner = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
            channel.close();
            throw new UserException("run folder " + runDir + " is in use by another run (process "
                    + (owner.isEmpty() ? "unknown" : owner) + ", lock " + file + "); " + advice);
        }
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(true);
        } catch (IOException e) {
            // a full disk at start-up: the message must name the file
            lock.release();
            channel.close();
            throw FileErrors.about(file, "write", e);
        }
        return new RunLock(channel, lock);
    }

    @Override public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
