package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import jresnet.backend.cpu.CpuBackend;
import jresnet.models.HeNets;
import jresnet.models.TutorialNets;
import jresnet.optim.Adam;
import org.junit.jupiter.api.Test;

class BenchmarkTest {
    /*
     * ResNet-20 forward FLOPs (2·K·K·Cin·Cout·Hout·Wout):
     *   stem 2·9·3·16·32·32 = 884,736
     *   stage 1: 6 × 2·9·16·16·32·32 = 28,311,552
     *   stage 2: 2·9·16·32·16·16 = 2,359,296 + 5 × 2·9·32·32·16·16 = 23,592,960
     *   stage 3: 2·9·32·64·8·8 = 2,359,296 + 5 × 2·9·64·64·8·8 = 23,592,960
     *   dense 2·64·10 = 1,280
     * sum 81,102,080 (the paper's ~41M multiply-adds), a training step 3× that.
     */
    @Test void resnet20FlopsByHand() {
        assertEquals(3L * 81_102_080, Benchmark.trainingFlopsPerImage(HeNets.resnet(20)));
        assertEquals(Benchmark.trainingFlopsPerImage(HeNets.resnet(20)), Benchmark.trainingFlopsPerImage(HeNets.plain(20)),
                "option-A shortcuts cost no FLOPs");
    }

    /** The tutorial's ResNet-30 counts its three 1x1 projections too. */
    @Test void resnet30CountsProjections() {
        long plain = Benchmark.trainingFlopsPerImage(TutorialNets.plain30());
        long resnet = Benchmark.trainingFlopsPerImage(TutorialNets.resnet30());
        // projections 1x1 stride 2: 64→128 at 16x16, 128→256 at 8x8, 256→512 at 4x4
        long projections = 2L * (64 * 128 * 256 + 128 * 256 * 64 + 256 * 512 * 16);
        assertEquals(3 * projections, resnet - plain);
    }

    @Test void runReportsConsistentNumbersAndTheJsonLine() {
        try (CpuBackend cpu = new CpuBackend()) {
            Benchmark.Result r = Benchmark.run(HeNets.resnet(8), cpu, new Adam(), 4, 1, 3, 1);
            assertEquals("resnet8", r.model());
            assertEquals("cpu", r.device());
            assertEquals(4, r.batch());
            assertEquals(4000 / r.stepMsMedian(), r.imagesPerSecond(), 1e-9 * r.imagesPerSecond());
            assertEquals(Benchmark.trainingFlopsPerImage(HeNets.resnet(8)) * r.imagesPerSecond() / 1e9,
                    r.gflopsPerSecond(), 1e-9 * r.gflopsPerSecond());
            String json = r.toJson();
            assertTrue(json.matches("\\{\"model\":\"resnet8\",\"device\":\"cpu\",\"batch\":4,\"images_per_s\":[0-9]+\\.[0-9],"
                    + "\"step_ms_median\":[0-9]+\\.[0-9]{2},\"gflops_per_s\":[0-9]+\\.[0-9],\"vector_bits\":"
                    + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "\\}"), json);
        }
    }

    /**
     * resnet8 has 7 convolutions (stem, then 2 per stage), 6 of them below another layer, 7 batch
     * norms (4 fused with the ReLU after them), 3 Adds (each fused with the ReLU after it) and one Adam update: per timed step, not counting the warm-up, the profile sees exactly
     * those calls, and nothing that is not an op (allocate, synchronize).
     */
    @Test void profileCountsEachOpPerTimedStep() {
        try (CpuBackend cpu = new CpuBackend()) {
            OpProfile profile = new OpProfile(cpu);
            Benchmark.run(HeNets.resnet(8), profile.backend(), new Adam(), 4, 2, 3, 1, profile);
            java.util.List<String> table = profile.table();
            assertTrue(table.get(0).startsWith("op (per step, 3 steps)"), table.get(0));
            assertTrue(table.get(table.size() - 1).matches("all ops +[0-9]+\\.[0-9]{2} +100\\.0%"), table.get(table.size() - 1));
            java.util.Map<String, String> calls = new java.util.HashMap<>();
            for (String line : table.subList(1, table.size() - 1)) {
                String[] fields = line.trim().split(" +");
                calls.put(fields[0], fields[1]);
            }
            assertEquals("7.0", calls.get("conv2dForward"));
            assertEquals("7.0", calls.get("conv2dBackwardFilter"));
            assertEquals("6.0", calls.get("conv2dBackwardData"));
            // He et al.'s BN → ReLU runs fused: 4 of the 7 batch norms are followed by a ReLU alone
            assertEquals("4.0", calls.get("batchNormReluTrainForward"));
            // and the other 3, one per block, with the block's Add and its ReLU: nothing runs on its own
            assertEquals("3.0", calls.get("batchNormAddReluTrainForward"));
            assertEquals("3.0", calls.get("batchNormAddReluBackward"));
            for (String alone : java.util.List.of("batchNormTrainForward", "addReluForward", "reluForward", "reluBackward", "copy")) {
                assertTrue(!calls.containsKey(alone), alone + " in " + calls.keySet());
            }
            assertEquals("1.0", calls.get("adamUpdate"));
            assertTrue(!calls.containsKey("allocate") && !calls.containsKey("synchronize"), calls.keySet().toString());
        }
    }

    @Test void aProfileThatRecordedNothingPrintsNothing() {
        try (CpuBackend cpu = new CpuBackend()) {
            assertTrue(new OpProfile(cpu).table().isEmpty());
        }
    }

    @Test void medianOfOddAndEvenCounts() {
        assertEquals(2, Benchmark.median(new double[] {3, 1, 2}));
        assertEquals(2.5, Benchmark.median(new double[] {4, 1, 3, 2}));
    }
}
