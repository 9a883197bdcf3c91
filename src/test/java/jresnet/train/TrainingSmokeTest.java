package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import jresnet.TestData;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.data.Cifar10;
import jresnet.data.Dataset;
import jresnet.models.ModelZoo;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.optim.Adam;
import org.junit.jupiter.api.Test;

/** A narrow ResNet on a few hundred real CIFAR-10 images: a few steps of Adam lower the loss. */
class TrainingSmokeTest {
    @Test void lossDecreasesOnRealData() throws Exception {
        Dataset train = Cifar10.training(TestData.cifar10(), 256);
        Model model = ModelZoo.create("tutorial-resnet-1.1-w4");
        model.initializeWeights(3);
        float[] images = new float[128 * 32 * 32 * 3], labels = new float[128];
        for (int i = 0; i < 128; i++) {
            train.copyImageNhwc(i, images, i * 32 * 32 * 3);
            labels[i] = train.label(i);
        }
        try (ReferenceBackend b = new ReferenceBackend(); Executor ex = new Executor(model, b, 128)) {
            double before = ex.lossAndGradients(images, labels, 128)[0] / 128;
            ex.attachOptimizer(new Adam());
            Trainer trainer = new Trainer(ex, 32, 1, null, null, Trainer.NonFinitePolicy.STOP, List.of());
            List<EpochMetrics> history = trainer.fit(train, null, 3, new TrainingState());
            double after = ex.lossAndGradients(images, labels, 128)[0] / 128;
            assertTrue(after < before, "loss " + before + " -> " + after);
            assertTrue(history.get(2).loss() < history.get(0).loss(), "epoch losses " + history);
        }
    }
}
