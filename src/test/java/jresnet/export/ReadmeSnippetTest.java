package jresnet.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import java.io.ByteArrayOutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import jresnet.TestData;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.data.Cifar10;
import jresnet.data.Dataset;
import jresnet.io.AtomicFiles;
import jresnet.models.ModelZoo;
import jresnet.nn.Model;
import jresnet.tensor.HostArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's ONNX Runtime snippet, compiled as written and run on an exported model: it classifies like predict. */
class ReadmeSnippetTest {
    @Test
    void readmeSnippetClassifiesAnImage(@TempDir Path tmp) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher block = Pattern.compile("## Deploying with ONNX.*?```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(block.find(), "README has a java block under 'Deploying with ONNX'");
        String snippet = block.group(1);
        assertTrue(snippet.strip().lines().count() <= 6, snippet);

        Path data = TestData.cifar10();
        Model model = ModelZoo.create("resnet20");
        Path onnx = tmp.resolve("resnet20.onnx");
        AtomicFiles.write(onnx, OnnxExport.build(model, Map.of(), "w", Cifar10.classNames(data), OnnxExport.DEFAULT_OPSET)::writeTo);
        HostArray image = TrainedStandIn.images(Cifar10.test(data, 1), 0, 1);

        String body = snippet.replace("\"resnet20.onnx\"", "\"" + onnx.toString().replace("\\", "\\\\") + "\"");
        int last = body.lastIndexOf('}');
        body = body.substring(0, last) + "    return probabilities;\n" + body.substring(last);
        String source = "import ai.onnxruntime.*;\nimport java.nio.FloatBuffer;\nimport java.util.Map;\n"
                + "public final class Snippet {\n    public static float[] classify(float[] pixels) throws Exception {\n"
                + body + "    }\n}\n";
        Path java = Files.writeString(tmp.resolve("Snippet.java"), source);
        String ortJar = Path.of(OrtEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int status = javac.run(null, diagnostics, diagnostics, "-cp", ortJar, "-d", tmp.toString(), java.toString());
        assertEquals(0, status, source + "\n" + diagnostics.toString(StandardCharsets.UTF_8));

        float[] probabilities;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {tmp.toUri().toURL()}, getClass().getClassLoader())) {
            probabilities = (float[]) loader.loadClass("Snippet").getMethod("classify", float[].class)
                    .invoke(null, (Object) image.data().clone());
        }
        float[] expected;
        try (ReferenceBackend backend = new ReferenceBackend()) {
            expected = model.predict(backend, image, 1).data();
        }
        assertEquals(Dataset.CLASSES, probabilities.length);
        for (int k = 0; k < Dataset.CLASSES; k++) assertEquals(expected[k], probabilities[k], OnnxRuntimeAgreementTest.TOLERANCE);
    }
}
