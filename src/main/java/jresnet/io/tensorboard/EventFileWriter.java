package jresnet.io.tensorboard;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One TensorBoard event file in a directory, named like TensorFlow 2 names them:
 * {@code events.out.tfevents.<unix seconds>.<hostname>.<pid>.<n>.v2}. The first record is the
 * file-version event; every event is flushed to the operating system as soon as it is written.
 */
public final class EventFileWriter implements AutoCloseable {
    /** Keeps file names unique when one process opens several writers within a second. */
    private static final AtomicLong FILE_COUNTER = new AtomicLong();
    /** Looked up once: resolving the local host name can take seconds where DNS is slow. */
    private static final String HOSTNAME = hostname();

    private final Path file;
    private final TfRecordWriter records;

    public EventFileWriter(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create TensorBoard directory " + dir, e);
        }
        long unixSeconds = System.currentTimeMillis() / 1000;
        this.file = dir.resolve("events.out.tfevents." + unixSeconds + "." + HOSTNAME + "."
                + ProcessHandle.current().pid() + "." + FILE_COUNTER.getAndIncrement() + ".v2");
        try {
            this.records = new TfRecordWriter(new BufferedOutputStream(
                    Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create TensorBoard event file " + file, e);
        }
        write(Event.fileVersion(now()));
    }

    public Path file() {
        return file;
    }

    public void write(Event event) {
        try {
            records.write(EventEncoder.encode(event));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to TensorBoard event file " + file, e);
        }
    }

    public void writeScalar(long step, String tag, float value) {
        write(Event.summary(now(), step, List.of(new SummaryValue.Scalar(tag, value))));
    }

    public void writeHistogram(long step, String tag, Histogram histogram) {
        write(Event.summary(now(), step, List.of(new SummaryValue.HistogramValue(tag, histogram))));
    }

    @Override
    public void close() {
        try {
            records.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close TensorBoard event file " + file, e);
        }
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    /** A name safe in a file name; "localhost" where the machine has none that resolves. */
    private static String hostname() {
        String name;
        try {
            name = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            name = "localhost";
        }
        String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.isEmpty() ? "localhost" : safe;
    }
}
