package jresnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import jresnet.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Java API program, as a user would copy it: it compiles against the jar and runs. */
class ReadmeJavaExampleTest {
    @Test void theReadmesJavaProgramCompilesAndRuns(@TempDir Path tmp) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("```java\n");
        assertTrue(start >= 0, "README.md has a ```java block");
        String program = readme.substring(start + "```java\n".length(), readme.indexOf("```", start + 7));
        Path source = Files.writeString(tmp.resolve("Example.java"), program);

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        // the main classes and the libraries, not this build's test classes: what a user has
        String classPath = java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(entry -> !entry.endsWith("test-classes")).collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        int compiled = javac.run(null, diagnostics, diagnostics, "--add-modules", "jdk.incubator.vector",
                "-cp", classPath, "-d", tmp.toString(), source.toString());
        assertEquals(0, compiled, diagnostics.toString(StandardCharsets.UTF_8));

        Path weights = tmp.resolve("small.safetensors");
        PrintStream original = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {tmp.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            loader.loadClass("Example").getMethod("main", String[].class)
                    .invoke(null, (Object) new String[] {TestData.cifar10().toString(), weights.toString()});
        } finally {
            System.setOut(original);
        }
        String out = printed.toString(StandardCharsets.UTF_8);
        assertTrue(out.startsWith("Model: \"small\""), out);
        assertTrue(out.matches("(?s).*test accuracy 0\\.\\d{3}; image 0 is of class \\d\n"), out);
        assertEquals(List.of("model"), List.copyOf(Safetensors.read(weights).metadata().keySet()));
    }
}
