package jresnet.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import jresnet.nn.Model;
import jresnet.nn.Weight;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;

class TutorialNetsTest {
    @Test void resnet30MatchesKerasParameterCounts() {
        Model m = TutorialNets.resnet30();
        assertEquals(15_619_990, m.countParams());
        assertEquals(15_607_568, m.countTrainableParams());
        assertEquals(12_422, m.countNonTrainableParams());
        String summary = m.summary();
        assertTrue(summary.contains("Total params: 15,619,990"), summary);
        assertTrue(summary.contains("Trainable params: 15,607,568"));
        assertTrue(summary.contains("Non-trainable params: 12,422"));
    }

    /** --help names the tutorial's shape as a parametric name: it builds the same network, whose weights either name takes. */
    @Test void theParametricNameOfTheTutorialsShapeIsResnet30() {
        Model named = ModelZoo.create("tutorial-resnet-2.5.5.2-w64"), resnet30 = ModelZoo.create("resnet30");
        assertEquals(resnet30.summary(), named.summary().replace("tutorial-resnet-2.5.5.2-w64", "resnet30"));
        assertEquals(false, ModelZoo.savedFromAnother(resnet30, "tutorial-resnet-2.5.5.2-w64"));
        assertEquals(true, ModelZoo.savedFromAnother(resnet30, "tutorial-plain-2.5.5.2-w64"));
    }

    @Test void plain30MatchesKerasParameterCounts() {
        Model m = TutorialNets.plain30();
        assertEquals(15_447_062, m.countParams());
        assertEquals(15_434_640, m.countTrainableParams());
        assertEquals(12_422, m.countNonTrainableParams());
    }

    @Test void layerNamesFollowKerasCounters() {
        Model m = TutorialNets.resnet30();
        List<String> names = m.nodes().stream().map(n -> n.layer().name()).toList();
        assertEquals(List.of("input_1", "batch_normalization", "conv2d", "re_lu", "batch_normalization_1", "conv2d_1",
                "re_lu_1", "batch_normalization_2", "conv2d_2", "add", "re_lu_2", "batch_normalization_3"), names.subList(0, 12));
        assertTrue(names.contains("conv2d_31"), "32 convolutions: 28 in blocks, the stem and 3 projections");
        assertTrue(!names.contains("conv2d_32"));
        assertEquals("dense", names.get(names.size() - 1));
        assertEquals("flatten", names.get(names.size() - 2));
        assertEquals("average_pooling2d", names.get(names.size() - 3));
        // building again restarts the counters, like a fresh Keras session
        assertEquals("conv2d", TutorialNets.plain30().nodes().get(2).layer().name());
    }

    @Test void weightNamesAndKerasLayouts() {
        Model m = TutorialNets.resnet30();
        List<Weight> w = m.weightList();
        assertEquals("batch_normalization.gamma", w.get(0).name());
        assertEquals("batch_normalization.moving_variance", w.get(3).name());
        assertEquals("conv2d.kernel", w.get(4).name());
        assertEquals(Shape.of(3, 3, 3, 64), w.get(4).spec().shape());
        assertEquals("conv2d.bias", w.get(5).name());
        Weight dense = w.get(w.size() - 2);
        assertEquals("dense.kernel", dense.name());
        assertEquals(Shape.of(512, 10), dense.spec().shape());
        assertEquals(Shape.of(1, 1, 64, 128), m.weights().entrySet().stream()
                .filter(e -> e.getKey().endsWith(".kernel") && e.getValue().shape().dim(0) == 1)
                .findFirst().orElseThrow().getValue().shape());
    }

    @Test void glorotUniformStaysWithinItsLimit() {
        Model m = TutorialNets.resnet30();
        m.initializeWeights(7);
        float[] k = m.weights().get("conv2d_1.kernel").data();
        double limit = Math.sqrt(6.0 / (9 * 64 + 9 * 64));
        double max = 0, sumSq = 0;
        for (float v : k) {
            max = Math.max(max, Math.abs(v));
            sumSq += v * v;
        }
        assertTrue(max <= limit);
        assertEquals(limit * limit / 3, sumSq / k.length, limit * limit / 3 * 0.05, "uniform variance");
        for (float v : m.weights().get("conv2d_1.bias").data()) assertEquals(0f, v);
        for (float v : m.weights().get("batch_normalization.moving_variance").data()) assertEquals(1f, v);
    }

    /** ModelZoo counts a parametric net's weights before building it; the count must be the built net's. */
    @Test void sizeCountedBeforeBuildingMatchesTheBuiltNetwork() {
        for (String name : List.of("resnet30", "plain30", "tutorial-resnet-1-w2", "tutorial-plain-3.1-w4", "tutorial-resnet-2.1.3-w3",
                "tutorial-resnet-1.1.1.1-w5", "tutorial-plain-2.2.2.2-w1")) {
            Model m = ModelZoo.create(name);
            java.util.regex.Matcher g = java.util.regex.Pattern.compile("tutorial-(resnet|plain)-([\\d.]+)-w(\\d+)").matcher(name);
            int[] blocks = g.matches() ? java.util.Arrays.stream(g.group(2).split("\\.")).mapToInt(Integer::parseInt).toArray()
                    : new int[] {2, 5, 5, 2};
            int width = g.matches() ? Integer.parseInt(g.group(3)) : 64;
            boolean residual = name.contains("resnet");
            ModelZoo.TutorialSize size = ModelZoo.TutorialSize.of(blocks, width, residual);
            assertEquals(m.countParams(), (long) size.params(), name);
            long largest = m.weightList().stream().mapToLong(w -> w.spec().shape().size()).max().orElseThrow();
            assertEquals(largest, (long) size.largestTensor(), name);
        }
    }
}
