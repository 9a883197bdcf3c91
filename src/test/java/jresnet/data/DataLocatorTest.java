package jresnet.data;

import com.sun.net.httpserver.HttpServer;
import jresnet.UserException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataLocatorTest {
    @TempDir Path cacheRoot;
    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private volatile byte[] served = new byte[0];
    private volatile int status = 200;
    private final ByteArrayOutputStream progress = new ByteArrayOutputStream();

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/cifar-10-binary.tar.gz", exchange -> {
            requests.incrementAndGet();
            byte[] body = status == 200 ? served : new byte[0];
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/cifar-10-binary.tar.gz");
    }

    private DataLocator locator(Map<String, String> env, String md5) {
        return new DataLocator(env::get, cacheRoot, url(), md5, new PrintStream(progress, true, StandardCharsets.UTF_8));
    }

    private static List<String> requiredFiles() {
        List<String> names = new ArrayList<>(Cifar10.TRAINING_FILES);
        names.add(Cifar10.TEST_FILE);
        return names;
    }

    /** A CIFAR-like archive: a folder entry, each required file holding its own name, and a readme. */
    private static byte[] cifarArchive() throws IOException {
        TarWriter tar = new TarWriter();
        tar.directory("cifar-10-batches-bin/");
        for (String name : requiredFiles()) tar.file("cifar-10-batches-bin/" + name, ("content of " + name).getBytes(StandardCharsets.UTF_8));
        tar.paxFile("cifar-10-batches-bin/" + "long-name-".repeat(12) + ".txt", "pax".getBytes(StandardCharsets.UTF_8));
        tar.prefixedFile("cifar-10-batches-bin", "readme.html", "<html>".getBytes(StandardCharsets.UTF_8));
        return gzip(tar.finish());
    }

    private static String md5(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

    private List<String> cacheEntries() throws IOException {
        try (Stream<Path> s = Files.list(cacheRoot)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void withoutDownloadNothingIsFetchedAndNoFolderIsNull() throws IOException {
        assertEquals(null, locator(Map.of(), "x").locateWithoutDownload(null));
        assertEquals(0, requests.get(), "nothing downloaded for a command that needs only the class names");
        assertEquals(Path.of("/from/flag"), locator(Map.of(), "x").locateWithoutDownload("/from/flag"));
        Path folder = cacheRoot.resolve("cifar-10-batches-bin");
        Files.createDirectories(folder);
        for (String name : requiredFiles()) Files.writeString(folder.resolve(name), "present");
        assertEquals(folder, locator(Map.of(), "x").locateWithoutDownload(null));
    }

    /** The built-in names are the official file's, in label order. */
    @Test
    void officialClassNamesAreTheRealFilesNames() throws IOException {
        assertEquals(Cifar10.classNames(jresnet.TestData.cifar10()), Cifar10.OFFICIAL_CLASS_NAMES);
    }

    @Test
    void flagWinsOverEnvironmentWinsOverDefault() throws IOException {
        Path fromEnv = Files.createDirectories(cacheRoot.resolve("from-env"));
        Map<String, String> env = Map.of("JRESNET_DATA", fromEnv.toString());
        assertEquals(Path.of("/from/flag"), locator(env, "x").locate("/from/flag"));
        assertEquals(fromEnv, locator(env, "x").locate(null));
        assertEquals(fromEnv, locator(env, "x").locate("  "));
        // a folder the environment names but that is not there is refused naming the variable
        UserException missing = assertThrows(UserException.class,
                () -> locator(Map.of("JRESNET_DATA", "/from/env"), "x").locate(null));
        assertTrue(missing.getMessage().startsWith("JRESNET_DATA=/from/env: no such folder"), missing.getMessage());
        Path folder = cacheRoot.resolve("cifar-10-batches-bin");
        Files.createDirectories(folder);
        for (String name : requiredFiles()) Files.writeString(folder.resolve(name), "present");
        assertEquals(folder, locator(Map.of("JRESNET_DATA", ""), "x").locate(null));
        assertEquals(folder, locator(Map.of(), "x").locate(""));
        assertEquals(0, requests.get(), "nothing is downloaded when the folder is complete or named by the user");
    }

    @Test
    void downloadsChecksAndUnpacksIntoTheDefaultFolder() throws Exception {
        served = cifarArchive();
        Path folder = locator(Map.of(), md5(served)).locate(null);
        assertEquals(cacheRoot.resolve("cifar-10-batches-bin"), folder);
        for (String name : requiredFiles()) assertEquals("content of " + name, Files.readString(folder.resolve(name)));
        assertEquals("pax", Files.readString(folder.resolve("long-name-".repeat(12) + ".txt")));
        assertEquals("<html>", Files.readString(folder.resolve("readme.html")));
        assertEquals(List.of("cifar-10-batches-bin"), cacheEntries(), "no temporary files left");
        assertTrue(progress.toString(StandardCharsets.UTF_8).contains("Downloading CIFAR-10 from " + url()));

        locator(Map.of(), md5(served)).locate(null);
        assertEquals(1, requests.get(), "a complete folder is not downloaded again");
    }

    @Test
    void replacesAnIncompleteDefaultFolder() throws Exception {
        Path folder = cacheRoot.resolve("cifar-10-batches-bin");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("data_batch_1.bin"), "stale");
        served = cifarArchive();
        locator(Map.of(), md5(served)).locate(null);
        assertEquals("content of data_batch_1.bin", Files.readString(folder.resolve("data_batch_1.bin")));
        assertEquals(List.of("cifar-10-batches-bin"), cacheEntries());
    }

    @Test
    void checksumMismatchExplainsAndLeavesNothing() throws Exception {
        served = cifarArchive();
        UserException e = assertThrows(UserException.class, () -> locator(Map.of(), "0123456789abcdef0123456789abcdef").locate(null));
        assertTrue(e.getMessage().contains("has MD5 " + md5(served) + ", expected 0123456789abcdef0123456789abcdef"), e.getMessage());
        assertHowTo(e.getMessage());
        assertEquals(List.of(), cacheEntries());
    }

    @Test
    void failedDownloadExplainsHowToProvideTheFolder() throws IOException {
        status = 404;
        UserException e = assertThrows(UserException.class, () -> locator(Map.of(), "x").locate(null));
        assertTrue(e.getMessage().startsWith("could not download CIFAR-10 from " + url()), e.getMessage());
        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
        assertHowTo(e.getMessage());
        assertEquals(List.of(), cacheEntries());
    }

    @Test
    void rejectsEntriesEscapingTheFolder() throws Exception {
        TarWriter tar = new TarWriter();
        tar.file("cifar-10-batches-bin/data_batch_1.bin", new byte[] {1});
        tar.file("../escaped.bin", new byte[] {2});
        served = gzip(tar.finish());
        UserException e = assertThrows(UserException.class, () -> locator(Map.of(), md5(served)).locate(null));
        assertTrue(e.getMessage().contains("tar entry \"../escaped.bin\" would be written outside"), e.getMessage());
        assertFalse(Files.exists(cacheRoot.resolve("escaped.bin")));
        assertFalse(Files.exists(cacheRoot.getParent().resolve("escaped.bin")));
        assertEquals(List.of(), cacheEntries());

        tar = new TarWriter();
        tar.file("/tmp/absolute.bin", new byte[] {3});
        served = gzip(tar.finish());
        e = assertThrows(UserException.class, () -> locator(Map.of(), md5(served)).locate(null));
        assertTrue(e.getMessage().contains("tar entry \"/tmp/absolute.bin\" would be written outside"), e.getMessage());
    }

    @Test
    void rejectsAnArchiveWithoutTheData() throws Exception {
        TarWriter tar = new TarWriter();
        tar.file("cifar-10-batches-bin/data_batch_1.bin", new byte[] {1});
        served = gzip(tar.finish());
        UserException e = assertThrows(UserException.class, () -> locator(Map.of(), md5(served)).locate(null));
        assertTrue(e.getMessage().contains("lacks cifar-10-batches-bin/data_batch_2.bin"), e.getMessage());
        assertEquals(List.of(), cacheEntries());
    }

    @Test
    void rejectsACorruptArchive() throws Exception {
        byte[] tar = new TarWriter().file("a.bin", new byte[] {1}).finish();
        tar[0] ^= 1; // breaks the header checksum
        served = gzip(tar);
        UserException e = assertThrows(UserException.class, () -> locator(Map.of(), md5(served)).locate(null));
        assertTrue(e.getMessage().contains("could not unpack") && e.getMessage().contains("checksum"), e.getMessage());
        assertEquals(List.of(), cacheEntries());
    }

    private static void assertHowTo(String message) {
        assertTrue(message.contains(DataLocator.OFFICIAL_URL) && message.contains("--data DIR") && message.contains("JRESNET_DATA=DIR"), message);
        assertEquals(-1, message.indexOf('\n'), message);
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    /** Writes ustar archives for the tests: plain entries, a prefix+name entry and a pax "path" entry. */
    private static final class TarWriter {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        TarWriter file(String name, byte[] content) {
            entry(name, "", '0', content);
            return this;
        }

        TarWriter directory(String name) {
            entry(name, "", '5', new byte[0]);
            return this;
        }

        TarWriter prefixedFile(String prefix, String name, byte[] content) {
            entry(name, prefix, '0', content);
            return this;
        }

        TarWriter paxFile(String longName, byte[] content) {
            String record = " path=" + longName + "\n";
            int length = record.length() + 1;
            length = record.length() + String.valueOf(length).length();
            entry("PaxHeaders/x", "", 'x', (length + record).getBytes(StandardCharsets.UTF_8));
            entry("truncated-name", "", '0', content);
            return this;
        }

        byte[] finish() {
            out.writeBytes(new byte[1024]);
            return out.toByteArray();
        }

        private void entry(String name, String prefix, char type, byte[] content) {
            byte[] header = new byte[512];
            put(header, 0, name);
            put(header, 100, "0000644");
            put(header, 108, "0000000");
            put(header, 116, "0000000");
            put(header, 124, String.format("%011o", content.length));
            put(header, 136, "00000000000");
            header[156] = (byte) type;
            put(header, 257, "ustar");
            put(header, 263, "00");
            put(header, 345, prefix);
            for (int i = 148; i < 156; i++) header[i] = ' ';
            int sum = 0;
            for (byte b : header) sum += b & 0xFF;
            put(header, 148, String.format("%06o", sum));
            out.writeBytes(header);
            out.writeBytes(content);
            out.writeBytes(new byte[Math.floorMod(-content.length, 512)]);
        }

        private static void put(byte[] header, int offset, String value) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            System.arraycopy(bytes, 0, header, offset, bytes.length);
        }
    }

    @Test void downloadFailuresAreWordsNotClassNames() {
        assertEquals("cannot resolve the host www.cs.toronto.edu; no network?",
                DataLocator.downloadFailure(new java.net.UnknownHostException("www.cs.toronto.edu")));
        assertEquals("the connection timed out", DataLocator.downloadFailure(new java.net.SocketTimeoutException("Read timed out")));
    }
}
