package jresnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import jresnet.backend.Backend;
import jresnet.data.Cifar10;
import jresnet.data.DataLocator;
import jresnet.data.Dataset;
import jresnet.io.AtomicFiles;
import jresnet.io.Json;
import jresnet.io.Npy;
import jresnet.io.Safetensors;
import jresnet.models.ModelZoo;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.nn.Weight;
import jresnet.tensor.HostArray;
import jresnet.tensor.Shape;

/**
 * Writes one training-mode forward/backward of a model on real CIFAR-10 images, for checking the
 * semantics against an independent implementation (bench/peers/crosscheck.py): the weights before
 * the step, the batch, the loss, every gradient and the moving statistics after the forward pass.
 * Usage: java -cp target/jresnet.jar jresnet.cli.StepDump --model resnet30 --out DIR [--batch-size 4]
 * [--device cpu|reference|cuda] [--seed S] [--data DIR]
 */
public final class StepDump {
    private StepDump() {}

    public static void main(String[] argv) throws IOException {
        Args a = new Args("StepDump", argv, 0, Set.of("model", "out", "batch-size", "device", "seed", "data"), Set.of());
        Model model = ModelZoo.create(a.required("StepDump", "model"));
        model.initializeWeights(a.longValue("seed", 1));
        Path out = Path.of(a.required("StepDump", "out"));
        int n = a.integer("batch-size", 4, 1);
        Dataset data = Cifar10.training(DataLocator.resolve(a.string("data", null)), n);
        float[] images = new float[n * 32 * 32 * 3], labels = new float[n];
        for (int i = 0; i < n; i++) {
            data.copyImageNhwc(i, images, i * 32 * 32 * 3);
            labels[i] = data.label(i);
        }
        Files.createDirectories(out);
        Safetensors.write(out.resolve("weights.safetensors"), model.weights(), Map.of());
        Npy.write(out.resolve("images.npy"), new HostArray(Shape.of(n, 32, 32, 3), images));
        Npy.write(out.resolve("labels.npy"), new HostArray(Shape.of(n), labels));
        try (Backend backend = Devices.open(a.choice("device", "cpu", "cpu", "reference", "cuda"), System.err);
             Executor executor = new Executor(model, backend, n)) {
            double loss = executor.lossAndGradients(images, labels, n)[0] / n;
            Map<String, HostArray> gradients = new LinkedHashMap<>(), moving = new LinkedHashMap<>();
            for (Weight w : model.weightList()) {
                float[] values = new float[w.spec().shape().elements()];
                backend.copyToHost(w.trainable() ? executor.gradient(w.name()) : executor.parameter(w.name()), values);
                (w.trainable() ? gradients : moving).put(w.name(), new HostArray(w.spec().shape(), values));
            }
            Safetensors.write(out.resolve("gradients.safetensors"), gradients, Map.of());
            Safetensors.write(out.resolve("moving.safetensors"), moving, Map.of());
            AtomicFiles.writeString(out.resolve("result.json"), Json.pretty(Map.of("loss", loss)));
            System.out.printf("wrote %s: loss %.8f on %d images%n", out, loss, n);
        }
    }
}
