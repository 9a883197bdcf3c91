package jresnet.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import jresnet.UserException;

/**
 * Failed file operations in words. Java reports many of them with the path alone (an
 * AccessDeniedException's message is just the path) or with the reason alone ("Is a directory"); a
 * user needs both, and never a class name.
 */
public final class FileErrors {
    private FileErrors() {}

    /** Why the operation failed, in words, without the path: "permission denied", "no space left on device". */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) return "no such file or folder";
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof FileAlreadyExistsException) return "already exists";
        if (e instanceof NotDirectoryException) return "not a folder";
        if (e instanceof DirectoryNotEmptyException) return "folder not empty";
        if (e instanceof FileSystemLoopException) return "symbolic links form a loop";
        String text = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
        if (text == null || text.isBlank()) return "input/output error";
        if (text.equals("Is a directory")) return "is a folder, not a file";
        boolean sentence = text.length() > 1 && Character.isLowerCase(text.charAt(1));
        return sentence ? text.substring(0, 1).toLowerCase(Locale.ROOT) + text.substring(1) : text;
    }

    /**
     * Why a file to be read is not one, for a check made before reading it; null when it is a
     * regular file. A folder in its place is named as one: "missing" would send the user looking
     * for a file that is there under the wrong kind.
     */
    public static String notAFile(Path path) {
        if (Files.isRegularFile(path)) return null;
        if (Files.isDirectory(path)) return "is a folder, not a file";
        return Files.exists(path) ? "is not a regular file" : "is missing";
    }

    /** Reads a file through its channel. */
    @FunctionalInterface
    interface ChannelReader<T> {
        T read(Path path, FileChannel channel) throws IOException;
    }

    /** Reads a file the user named: a folder, a missing file or a failed read is one line naming it. */
    static <T> T readUserFile(Path path, ChannelReader<T> reader) throws IOException {
        if (Files.isDirectory(path)) throw new UserException(path + ": is a folder, not a file");
        // the readers seek and size the file: a pipe (bash's <(...)) would read as empty
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            throw new UserException(path + ": is not a regular file (a pipe or a device); save it to a file and give that");
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return reader.read(path, channel);
        } catch (NoSuchFileException e) {
            throw new UserException(path + ": file not found");
        } catch (IOException e) {
            throw about(path, "read", e);
        }
    }

    /** One line naming the file the failure concerns and the reason: for any IOException that reaches the user. */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException f && f.getFile() != null) {
            return f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ": " + reason(e);
        }
        return reason(e);
    }

    /** The failure re-addressed to the path the user gave (naming the file it concerned), keeping the cause for --debug. */
    public static FileSystemException about(Path path, String action, IOException e) {
        boolean elsewhere = e instanceof FileSystemException f && f.getFile() != null && !Path.of(f.getFile()).equals(path);
        return addressed(path, action, reason(e) + (elsewhere ? " (" + ((FileSystemException) e).getFile() + ")" : ""), e);
    }

    /** As {@link #about}, for a failure inside a folder that is written whole, whose inner (temporary) names mean nothing to a user. */
    public static FileSystemException inside(Path folder, String action, IOException e) {
        IOException root = e;
        while (root.getCause() instanceof IOException cause) root = cause;
        return addressed(folder, action, reason(root), e);
    }

    private static FileSystemException addressed(Path path, String action, String reason, IOException cause) {
        FileSystemException failure = new FileSystemException(path.toString(), null, "cannot " + action + ": " + reason);
        failure.initCause(cause);
        return failure;
    }
}
