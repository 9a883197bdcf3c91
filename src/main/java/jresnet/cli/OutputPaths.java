package jresnet.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;
import jresnet.UserException;
import jresnet.train.ComparisonPlan;
import jresnet.train.TrainingRun;

/** Checks on where a command writes, made before anything is read or written: nothing a user made is overwritten. */
final class OutputPaths {
    private OutputPaths() {}

    /**
     * The file an output flag names, refused where the command's write would not land in a plain file
     * of that name: its result is written beside the target and renamed over it, which would replace
     * a symbolic link with a file (leaving the link's target as it was) and a device or pipe
     * (/dev/null, a FIFO) with a file, and a value ending in "/" names a folder yet would become a file.
     */
    static Path requireFileTarget(String flag, String given) {
        Path output = Path.of(given);
        if (given.endsWith("/") && !Files.isDirectory(output)) {
            throw new UserException(flag + " " + given + ": ends in '/', so it names a folder; name a file to write");
        }
        if (Files.isDirectory(output)) return output; // a folder, also through a link: requireNotAnInput names it as one
        if (Files.isSymbolicLink(output)) {
            throw new UserException(flag + " " + given + ": is a symbolic link, which writing would replace with a file; "
                    + "name the file it points to, or another file");
        }
        if (Files.exists(output, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(output, LinkOption.NOFOLLOW_LINKS)) {
            throw new UserException(flag + " " + given + ": is not a regular file (a device, pipe or socket), which writing "
                    + "would replace with a file; name a file to write");
        }
        return output;
    }

    /**
     * Refuses an output that is one of the inputs, also through "..", a symbolic link or a hard link.
     * inputs: each input's flag and path.
     */
    static void requireNotAnInput(String flag, Path output, Map<String, Path> inputs) throws IOException {
        if (Files.isDirectory(output)) throw new UserException(flag + " " + output + ": is a folder; name a file to write");
        Path resolvedOutput = resolved(output);
        for (Map.Entry<String, Path> input : inputs.entrySet()) {
            Path in = input.getValue();
            boolean same = resolvedOutput.equals(resolved(in))
                    || Files.exists(output) && Files.exists(in) && Files.isSameFile(output, in);
            if (same) {
                throw new UserException(flag + " " + output + " is the same file as " + input.getKey() + " " + in
                        + ", which this command reads; choose another output file");
            }
        }
    }

    /**
     * An existing output file is replaced only when it holds what the command writes (an earlier
     * run's result, recognised by its format): anything else a user made there is kept.
     */
    static void requireReplaceable(String flag, Path output, Predicate<Path> isOwnKind, String kind) {
        if (Files.exists(output) && !isOwnKind.test(output)) {
            throw new UserException(flag + " " + output + " exists and is not " + kind + "; choose another file "
                    + "(or remove it first)");
        }
    }

    /** A folder that a command fills with its own files must be new or empty. */
    static void requireEmptyFolder(String flag, Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        if (!Files.isDirectory(dir)) throw new UserException(flag + " " + dir + ": is a file, not a folder");
        TreeSet<String> entries = new TreeSet<>();
        try (DirectoryStream<Path> listing = Files.newDirectoryStream(dir)) {
            for (Path p : listing) entries.add(p.getFileName().toString());
        }
        if (entries.isEmpty()) return;
        String notEmpty = flag + " " + dir + " is not empty (";
        if (entries.contains(ComparisonPlan.FILE)) {
            throw new UserException(notEmpty + ComparisonPlan.FILE + " is in the way): it holds a comparison; continue it with "
                    + "compare --resume " + dir + " or choose a new or empty folder");
        }
        if (entries.contains(TrainingRun.CONFIG)) {
            throw new UserException(notEmpty + TrainingRun.CONFIG + " is in the way): it holds a training run; continue it with "
                    + "train --resume " + dir + " or choose a new or empty folder");
        }
        // a run's .lock sorts first but says least: name the file a user would recognise
        String inTheWay = entries.stream().filter(e -> !e.startsWith(".")).findFirst().orElse(entries.first());
        throw new UserException(notEmpty + inTheWay + " is in the way); choose a new or empty folder");
    }

    /** The real path of a file, or of its folder when the file does not exist yet. */
    private static Path resolved(Path p) throws IOException {
        Path absolute = p.toAbsolutePath().normalize();
        if (Files.exists(absolute)) {
            try {
                return absolute.toRealPath();
            } catch (IOException notAPath) {
                return absolute; // a link into no folder, as /dev/fd/N of a pipe (bash's <(...)) is
            }
        }
        Path parent = absolute.getParent();
        return parent != null && Files.isDirectory(parent) ? parent.toRealPath().resolve(absolute.getFileName()) : absolute;
    }
}
