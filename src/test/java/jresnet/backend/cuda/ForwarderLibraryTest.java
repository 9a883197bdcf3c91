package jresnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forwarding-library generator (native-build/forwarder.sh, the code path build.sh uses for
 * libcudnn.so.8 and libcublas.so.12) against stand-ins built here: an old library version that a client
 * was linked against, and a newer one that lacks one of its functions. No GPU needed.
 */
class ForwarderLibraryTest {

    @BeforeAll
    static void requireToolchain() {
        assumeTrue(onPath("gcc") && onPath("objdump"), "gcc and objdump are needed to build forwarding libraries");
    }

    @Test
    void forwardsCallsToTheNewLibraryAndStubsWhatItLacks(@TempDir Path dir) throws Exception {
        Path old = Files.createDirectories(dir.resolve("old"));
        Path newer = Files.createDirectories(dir.resolve("new"));
        Path client = Files.createDirectories(dir.resolve("client"));
        Path forwarders = dir.resolve("forwarders");

        write(old.resolve("standin.c"), """
                int standin_add(int a, int b) { return a + b; }
                double standin_scale(double x, int k, float f, long a, long b, long c, long d, long e) {
                    return x * k * f + a + b + c + d + e;
                }
                int standin_missing(void) { return 0; }
                """);
        write(old.resolve("standin.map"), "libstandin.so.1 { global: standin_*; local: *; };\n");
        run(old, "gcc", "-shared", "-fPIC", "-o", "libstandin.so.1", "standin.c",
                "-Wl,-soname,libstandin.so.1", "-Wl,--version-script,standin.map");

        // The new version computes differently, so a forwarded call is told apart from the old one.
        write(newer.resolve("standin.c"), """
                int standin_add(int a, int b) { return a + b + 1000; }
                double standin_scale(double x, int k, float f, long a, long b, long c, long d, long e) {
                    return x * k * f + a + b + c + d + e + 0.5;
                }
                """);
        write(newer.resolve("standin.map"), "libstandin.so.2 { global: standin_*; local: *; };\n");
        run(newer, "gcc", "-shared", "-fPIC", "-o", "libstandin.so.2", "standin.c",
                "-Wl,-soname,libstandin.so.2", "-Wl,--version-script,standin.map");

        // The client plays JCudnn's native: it imports the functions with the old version node.
        write(client.resolve("client.c"), """
                #include <stdio.h>
                int standin_add(int a, int b);
                double standin_scale(double x, int k, float f, long a, long b, long c, long d, long e);
                int standin_missing(void);
                int main(void) {
                    printf("add=%d scale=%.1f missing=%d\\n", standin_add(2, 3),
                           standin_scale(1.5, 2, 2.0f, 1, 2, 3, 4, 5), standin_missing());
                    return 0;
                }
                """);
        run(client, "gcc", "-o", "client", "client.c", "-L" + old, "-l:libstandin.so.1");

        run(dir, "bash", script("forwarder.sh").toString(), client.resolve("client").toString(),
                "libstandin.so.1", "libstandin.so.2", "77", forwarders.toString());

        String exports = run(dir, "objdump", "-T", forwarders.resolve("libstandin.so.1").toString());
        assertTrue(exports.lines().anyMatch(l -> l.contains(" libstandin.so.1 ") && l.endsWith("standin_missing")),
                "the forwarder must export standin_missing under version libstandin.so.1:\n" + exports);

        String output = run(client, Map.of("LD_LIBRARY_PATH", forwarders + ":" + newer), client.resolve("client").toString());
        assertEquals("add=1005 scale=21.5 missing=77", output.strip());
    }

    @Test
    void theBuiltCudnnAndCublasForwardersSatisfyTheJCudaNatives(@TempDir Path dir) throws Exception {
        Path target = Path.of("target");
        Path natives = target.resolve("jcuda-natives");
        assumeTrue(Files.isRegularFile(target.resolve("native/libcudnn.so.8")),
                "target/native holds no forwarders: the Maven build skipped them (no gcc)");
        write(dir.resolve("open.c"), """
                #include <dlfcn.h>
                #include <stdio.h>
                int main(int argc, char **argv) {
                    for (int i = 1; i < argc; i++) {
                        if (dlopen(argv[i], RTLD_NOW) == NULL) { printf("%s\\n", dlerror()); return 1; }
                    }
                    printf("loaded\\n");
                    return 0;
                }
                """);
        run(dir, "gcc", "-o", "open", "open.c", "-ldl");
        List<String> command = new ArrayList<>(List.of(dir.resolve("open").toString()));
        try (var files = Files.list(natives)) {
            files.filter(p -> p.getFileName().toString().matches("libJCu(dnn|blas2)-.*\\.so"))
                    .forEach(p -> command.add(p.toAbsolutePath().toString()));
        }
        assertEquals(3, command.size(), "expected the JCudnn and JCublas2 natives in " + natives);
        // RTLD_NOW: every imported function must resolve with its version node, here without any CUDA.
        String output = run(dir, Map.of("LD_LIBRARY_PATH", target.resolve("native").toAbsolutePath().toString()),
                command.toArray(String[]::new));
        assertEquals("loaded", output.strip());
    }

    static Path script(String name) {
        return Path.of("native-build", name).toAbsolutePath();
    }

    private static boolean onPath(String tool) {
        for (String entry : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(entry, tool))) return true;
        }
        return false;
    }

    private static void write(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        return run(dir, Map.of(), command);
    }

    /** Runs a command; returns its stdout, failing with the whole output when it exits non-zero. */
    private static String run(Path dir, Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().putAll(env);
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        builder.redirectError(err.toFile());
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = process.waitFor();
        assertEquals(0, status, String.join(" ", command) + " failed:\n" + out + Files.readString(err));
        return out;
    }
}
