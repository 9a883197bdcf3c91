package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import jresnet.backend.Backend;
import jresnet.backend.cpu.CpuBackend;
import jresnet.data.BatchTransform;
import jresnet.data.RandomRecords;
import jresnet.models.ModelZoo;
import jresnet.nn.Executor;
import jresnet.nn.Model;
import jresnet.optim.Adam;
import org.junit.jupiter.api.Test;

/**
 * One poisoned batch: stop names where it happened; skip-batch leaves it out and trains on. On the CPU
 * backend here, on CUDA in CudaNonFinitePolicyTest.
 */
class NonFinitePolicyTest {

    /** Puts a NaN pixel into the second batch of every epoch. */
    private static BatchTransform poisonSecondBatch() {
        int[] calls = {0};
        return (images, n, random) -> {
            if (calls[0]++ % 4 == 1) images[0] = Float.NaN;
        };
    }

    @Test void stopNamesEpochAndStepAndLeavesWeightsUntouched() {
        try (CpuBackend b = new CpuBackend()) {
            stopNamesEpochAndStepAndLeavesWeightsUntouched(b);
        }
    }

    @Test void skipBatchLeavesThePoisonedBatchOutAndTrainsOn() {
        try (CpuBackend b = new CpuBackend()) {
            skipBatchLeavesThePoisonedBatchOutAndTrainsOn(b);
        }
    }

    static void stopNamesEpochAndStepAndLeavesWeightsUntouched(Backend b) {
        Model model = ModelZoo.create("tutorial-resnet-1-w2");
        try (Executor ex = new Executor(model, b, 8)) {
            ex.attachOptimizer(new Adam());
            Trainer t = new Trainer(ex, 8, 1, poisonSecondBatch(), null, Trainer.NonFinitePolicy.STOP, List.of());
            Trainer.Stopped e = assertThrows(Trainer.Stopped.class, () -> t.fit(RandomRecords.dataset(32, 5), null, 1, new TrainingState()));
            assertEquals("non-finite loss NaN at epoch 1, step 2", e.getMessage());
            assertEquals(1, ex.iterations(), "the poisoned batch applied no update");
        }
    }

    static void skipBatchLeavesThePoisonedBatchOutAndTrainsOn(Backend b) {
        Model model = ModelZoo.create("tutorial-resnet-1-w2");
        List<String> skipped = new ArrayList<>();
        Callback record = new Callback() {
            @Override public void onBatchSkipped(String reason) { skipped.add(reason); }
        };
        try (Executor ex = new Executor(model, b, 8)) {
            ex.attachOptimizer(new Adam());
            Trainer t = new Trainer(ex, 8, 1, poisonSecondBatch(), null, Trainer.NonFinitePolicy.SKIP_BATCH, List.of(record));
            List<EpochMetrics> history = t.fit(RandomRecords.dataset(32, 5), null, 2, new TrainingState());
            assertEquals(List.of("non-finite loss NaN at epoch 1, step 2", "non-finite loss NaN at epoch 2, step 2"), skipped);
            assertEquals(6, ex.iterations(), "3 of 4 batches per epoch applied");
            assertTrue(Double.isFinite(history.get(1).loss()));
            ex.pullWeights();
            for (var w : model.weights().values()) for (float v : w.data()) assertTrue(Float.isFinite(v));
        }
    }
}
