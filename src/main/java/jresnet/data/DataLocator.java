package jresnet.data;

import jresnet.UserException;
import jresnet.io.AtomicFiles;
import jresnet.io.CacheFolder;
import jresnet.io.FileErrors;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Finds the CIFAR-10 folder: the --data flag, else the environment variable JRESNET_DATA, else
 * ~/.cache/jresnet/cifar-10-batches-bin ({@link CacheFolder}). Only the default cache folder is filled automatically, by
 * downloading and checking the official archive; a folder the user named is used as it is.
 */
public final class DataLocator {
    public static final String ENV_VAR = "JRESNET_DATA";
    public static final String OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
    /** MD5 of cifar-10-binary.tar.gz as published on https://www.cs.toronto.edu/~kriz/cifar.html. */
    static final String OFFICIAL_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
    static final String FOLDER_NAME = "cifar-10-batches-bin";
    private static final long PROGRESS_INTERVAL_NANOS = 5_000_000_000L;
    private static final int CONNECT_TIMEOUT_MS = 30_000;
    private static final int READ_TIMEOUT_MS = 60_000;

    private final Function<String, String> env;
    private final Path cacheRoot;
    private final URI archiveUrl;
    private final String archiveMd5;
    private final PrintStream progress;

    DataLocator(Function<String, String> env, Path cacheRoot, URI archiveUrl, String archiveMd5, PrintStream progress) {
        this.env = env;
        this.cacheRoot = cacheRoot;
        this.archiveUrl = archiveUrl;
        this.archiveMd5 = archiveMd5;
        this.progress = progress;
    }

    /** The CIFAR-10 folder to read; dataFlag may be null or blank when --data was not given. */
    public static Path resolve(String dataFlag) throws IOException {
        return standard().locate(dataFlag);
    }

    /** The locator of this process: its environment, the cache folder, the official archive. */
    private static DataLocator standard() {
        return new DataLocator(System::getenv, CacheFolder.root(), URI.create(OFFICIAL_URL), OFFICIAL_MD5, System.err);
    }

    /** One sentence for error messages: how a user provides the data. */
    public static String howToProvide() {
        return howToProvide(CacheFolder.root());
    }

    private static String howToProvide(Path cacheRoot) {
        return "download " + OFFICIAL_URL + " and unpack it in " + cacheRoot + " (giving " + cacheRoot.resolve(FOLDER_NAME)
                + "), or unpack it anywhere and pass its " + FOLDER_NAME + " folder with --data DIR or " + ENV_VAR + "=DIR";
    }

    /**
     * The CIFAR-10 folder named by dataFlag or the environment, or the cache's when it is complete;
     * null when none is, for a command that needs only the class names and should not download
     * 170 MB for them.
     */
    public static Path findWithoutDownload(String dataFlag) throws IOException {
        return standard().locateWithoutDownload(dataFlag);
    }

    Path locateWithoutDownload(String dataFlag) throws IOException {
        String fromEnv = env.apply(ENV_VAR);
        boolean named = dataFlag != null && !dataFlag.isBlank() || fromEnv != null && !fromEnv.isBlank();
        if (!named && !missingFiles(cacheRoot.resolve(FOLDER_NAME)).isEmpty()) return null;
        return locate(dataFlag);
    }

    Path locate(String dataFlag) throws IOException {
        if (dataFlag != null && !dataFlag.isBlank()) return Path.of(dataFlag);
        String fromEnv = env.apply(ENV_VAR);
        if (fromEnv != null && !fromEnv.isBlank()) {
            // named here: an error about the folder later would not say where its path came from
            if (!Files.isDirectory(Path.of(fromEnv))) {
                throw new UserException(ENV_VAR + "=" + fromEnv + ": " + (Files.exists(Path.of(fromEnv)) ? "not a folder" : "no such folder")
                        + " (the environment names it as the CIFAR-10 folder); " + howToProvide(cacheRoot));
            }
            return Path.of(fromEnv);
        }
        Path folder = cacheRoot.resolve(FOLDER_NAME);
        if (missingFiles(folder).isEmpty()) return folder;
        download(folder);
        return folder;
    }

    private static List<String> missingFiles(Path folder) {
        List<String> missing = new ArrayList<>();
        for (String name : requiredFiles()) {
            if (!Files.isRegularFile(folder.resolve(name))) missing.add(name);
        }
        return missing;
    }

    private static List<String> requiredFiles() {
        List<String> names = new ArrayList<>(Cifar10.TRAINING_FILES);
        names.add(Cifar10.TEST_FILE);
        return names;
    }

    /** Why a download failed, in words (a Java class name means nothing to a user). */
    static String downloadFailure(IOException e) {
        if (e instanceof java.net.UnknownHostException) return "cannot resolve the host " + e.getMessage() + "; no network?";
        if (e instanceof java.net.SocketTimeoutException) return "the connection timed out";
        if (e instanceof java.net.ConnectException) return "cannot connect: " + e.getMessage();
        return FileErrors.describe(e);
    }

    private void download(Path folder) throws IOException {
        Files.createDirectories(cacheRoot);
        Path archive = Files.createTempFile(cacheRoot, ".cifar-10-binary.", ".tar.gz.part");
        try {
            String md5;
            try {
                md5 = fetch(archive);
            } catch (IOException e) {
                throw new UserException("could not download CIFAR-10 from " + archiveUrl + " (" + downloadFailure(e) + "); "
                        + howToProvide(cacheRoot), e);
            }
            if (!md5.equals(archiveMd5)) {
                throw new UserException("the archive downloaded from " + archiveUrl + " has MD5 " + md5 + ", expected " + archiveMd5
                        + " (corrupt or altered download); " + howToProvide(cacheRoot));
            }
            unpack(archive, folder);
        } finally {
            Files.deleteIfExists(archive);
        }
    }

    /** Downloads to archive and returns the MD5 (lower-case hex) of what arrived. */
    private String fetch(Path archive) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides MD5", e);
        }
        HttpURLConnection connection = (HttpURLConnection) archiveUrl.toURL().openConnection();
        connection.setConnectTimeout(CONNECT_TIMEOUT_MS);
        connection.setReadTimeout(READ_TIMEOUT_MS);
        try {
            int status = connection.getResponseCode();
            if (status != HttpURLConnection.HTTP_OK) throw new IOException("HTTP " + status + " " + connection.getResponseMessage());
            long total = connection.getContentLengthLong();
            progress.println("Downloading CIFAR-10 from " + archiveUrl + (total > 0 ? " (" + megabytes(total) + ")" : "") + " ...");
            long received = 0;
            long lastReport = System.nanoTime();
            try (InputStream in = connection.getInputStream(); OutputStream out = Files.newOutputStream(archive)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) >= 0; ) {
                    out.write(buf, 0, n);
                    digest.update(buf, 0, n);
                    received += n;
                    long now = System.nanoTime();
                    if (now - lastReport >= PROGRESS_INTERVAL_NANOS) {
                        lastReport = now;
                        progress.println("  " + megabytes(received) + (total > 0 ? " of " + megabytes(total) + " (" + received * 100 / total + "%)" : ""));
                    }
                }
            }
            if (total >= 0 && received != total) throw new IOException("connection closed after " + received + " of " + total + " bytes");
            progress.println("  downloaded " + megabytes(received));
        } finally {
            connection.disconnect();
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static String megabytes(long bytes) {
        return String.format("%.1f MB", bytes / 1e6);
    }

    /** Unpacks into a temporary folder beside the target, then renames the data folder into place. */
    private void unpack(Path archive, Path folder) throws IOException {
        Path staging = AtomicFiles.createTempDirectory(folder);
        try {
            try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16))) {
                extractTar(in, staging);
            } catch (IOException e) {
                throw new UserException("could not unpack the archive from " + archiveUrl + " (" + FileErrors.describe(e) + "); " + howToProvide(cacheRoot), e);
            }
            Path unpacked = staging.resolve(FOLDER_NAME);
            List<String> missing = missingFiles(unpacked);
            if (!missing.isEmpty()) {
                throw new UserException("the archive from " + archiveUrl + " lacks " + FOLDER_NAME + "/" + String.join(", ", missing)
                        + "; " + howToProvide(cacheRoot));
            }
            AtomicFiles.publishDirectory(unpacked, folder);
            progress.println("CIFAR-10 unpacked into " + folder);
        } finally {
            AtomicFiles.deleteRecursively(staging);
        }
    }

    /**
     * Extracts a tar stream (ustar, GNU long names, pax) into a folder. Only regular files and folders
     * are created; links and special files are skipped, and an entry whose path would land outside the
     * folder fails the extraction.
     */
    private static void extractTar(InputStream in, Path destination) throws IOException {
        Path root = destination.toAbsolutePath().normalize();
        TarArchiveInputStream tar = new TarArchiveInputStream(in);
        for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
            // commons-compress reads past a bad header checksum; a corrupt archive must fail here
            if (!entry.isCheckSumOK()) throw new IOException("tar header checksum mismatch; not a tar archive or corrupt");
            switch (entry.getLinkFlag()) {
                case TarConstants.LF_NORMAL, TarConstants.LF_OLDNORM, TarConstants.LF_CONTIG -> {
                    Path file = inside(root, entry.getName());
                    Files.createDirectories(file.getParent());
                    try (OutputStream out = Files.newOutputStream(file)) {
                        tar.transferTo(out);
                    }
                }
                case TarConstants.LF_DIR -> Files.createDirectories(inside(root, entry.getName()));
                default -> { }
            }
        }
    }

    private static Path inside(Path root, String name) throws IOException {
        Path path;
        try {
            path = root.resolve(name).normalize();
        } catch (InvalidPathException e) {
            throw new IOException("tar entry \"" + name + "\" is not a valid path");
        }
        if (!path.startsWith(root)) throw new IOException("tar entry \"" + name + "\" would be written outside " + root);
        return path;
    }
}
