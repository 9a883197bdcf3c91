package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import jresnet.TestData;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.data.Cifar10;
import jresnet.data.Dataset;
import jresnet.io.Checkpoint;
import jresnet.io.Json;
import jresnet.models.ModelZoo;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.optim.Adam;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunRecorderTest {
    /**
     * A weight that no loss sees (a batch-norm moving statistic) turns non-finite: the loss stays
     * finite, but the epoch's weights must not replace the checkpoint of the epoch before.
     */
    @Test void nonFiniteWeightsNeverReachACheckpoint(@TempDir Path tmp) throws Exception {
        Model model = ModelZoo.create("tutorial-resnet-1-w2");
        model.initializeWeights(1);
        Dataset data = Cifar10.training(TestData.cifar10(), 16);
        String poisoned = "batch_normalization.moving_variance";
        try (ReferenceBackend backend = new ReferenceBackend(); Executor executor = new Executor(model, backend, 8);
             RunRecorder recorder = new RunRecorder(tmp, executor, Map.of(), null)) {
            executor.attachOptimizer(new Adam());
            Callback poison = new Callback() {
                @Override public void onEpochEnd(EpochMetrics m, TrainingState state) {
                    if (m.epoch() != 1) return;
                    float[] values = new float[model.weights().get(poisoned).data().length];
                    values[0] = Float.POSITIVE_INFINITY;
                    backend.copyFromHost(values, executor.parameter(poisoned));
                }
            };
            Trainer trainer = new Trainer(executor, 8, 1, null, null, Trainer.NonFinitePolicy.STOP, List.of(poison, recorder));
            TrainingState state = new TrainingState();
            trainer.fit(data, null, 1, state);
            byte[] kept = Files.readAllBytes(tmp.resolve("checkpoint").resolve(Checkpoint.WEIGHTS));
            Trainer.Stopped e = assertThrows(Trainer.Stopped.class, () -> trainer.fit(data, null, 3, state));
            assertEquals("non-finite weight " + poisoned + " after epoch 2 (a gradient was not finite)", e.getMessage());
            assertArrayEquals(kept, Files.readAllBytes(tmp.resolve("checkpoint").resolve(Checkpoint.WEIGHTS)), "checkpoint replaced");
            assertEquals(1, Json.parseObject(Files.readString(tmp.resolve("checkpoint").resolve(Checkpoint.STATE)), "state")
                    .get("epoch").getAsInt());
            assertEquals("after epoch 1", recorder.checkpointed());
            assertEquals(2, Files.readAllLines(tmp.resolve(RunRecorder.METRICS)).size(), "header and epoch 1 only");
        }
    }
}
