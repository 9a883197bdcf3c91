package jresnet.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.nn.Input;
import jresnet.nn.Model;
import jresnet.nn.Executor;
import jresnet.nn.SubsampleChannelPad;
import jresnet.nn.SymbolicTensor;
import jresnet.tensor.Shape;
import org.junit.jupiter.api.Test;

class HeNetsTest {
    /*
     * Parameters by hand, n blocks per stage (BatchNormalization: gamma, beta, moving mean, moving
     * variance = 4 per channel, the last two non-trainable; convolutions have no bias):
     *   stem      conv 3·3·3·16 = 432 + BN 64                                   =    496
     *   stage 1   per block 2·(3·3·16·16) + 2·64 = 4,736                        →  4,736 n
     *   stage 2   first block 3·3·16·32 + 3·3·32·32 + 2·128 = 14,080, then 18,688 each
     *   stage 3   first block 3·3·32·64 + 3·3·64·64 + 2·256 = 55,808, then 74,240 each
     *   dense     64·10 + 10                                                     =    650
     * total = 97,664 n − 21,894; non-trainable = 2·16 + n·2·(16 + 32 + 64)·2 = 32 + 448 n.
     */
    @Test void parameterCountsMatchThePaper() {
        int[] depths = {20, 32, 44, 56, 110};
        long[] totals = {271_098, 466_426, 661_754, 857_082, 1_736_058};
        for (int i = 0; i < depths.length; i++) {
            int n = (depths[i] - 2) / 6;
            assertEquals(97_664L * n - 21_894, totals[i]);
            for (Model m : List.of(HeNets.resnet(depths[i]), HeNets.plain(depths[i]))) {
                assertEquals(totals[i], m.countParams(), m.name());
                assertEquals(32 + 448L * n, m.countNonTrainableParams(), m.name());
            }
        }
        assertTrue(HeNets.resnet(20).summary().contains("Total params: 271,098"));
    }

    @Test void layoutOfResNet20() {
        Model m = HeNets.resnet(20);
        List<String> names = m.nodes().stream().map(n -> n.layer().name()).toList();
        assertEquals(List.of("input_1", "conv2d", "batch_normalization", "re_lu", "conv2d_1", "batch_normalization_1",
                "re_lu_1", "conv2d_2", "batch_normalization_2", "add", "re_lu_2"), names.subList(0, 11));
        assertEquals(19, names.stream().filter(s -> s.startsWith("conv2d")).count(), "6n+1 convolutions and a dense");
        assertEquals(2, names.stream().filter(s -> s.startsWith("subsample_channel_pad")).count());
        assertEquals(9, names.stream().filter(s -> s.startsWith("add")).count());
        assertEquals("global_average_pooling2d", names.get(names.size() - 2));
        assertEquals("dense", names.get(names.size() - 1));
        assertEquals(Shape.of(64), m.nodes().get(names.size() - 2).output().shape());
        assertEquals(Shape.of(3, 3, 32, 64), m.weights().get("conv2d_13.kernel").shape());
        assertTrue(!m.weights().containsKey("conv2d.bias"));
    }

    @Test void plainNetHasNoShortcuts() {
        List<String> names = HeNets.plain(20).nodes().stream().map(n -> n.layer().name()).toList();
        assertTrue(names.stream().noneMatch(s -> s.startsWith("add") || s.startsWith("subsample")));
        assertEquals(19, names.stream().filter(s -> s.startsWith("conv2d")).count());
    }

    @Test void depthMustBeSixNPlusTwo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HeNets.resnet(21));
        assertTrue(e.getMessage().contains("6n+2") && e.getMessage().contains("21"), e.getMessage());
    }

    @Test void heNormalKernelsHaveVariance2OverFanIn() {
        Model m = HeNets.resnet(20);
        m.initializeWeights(3);
        float[] k = m.weights().get("conv2d_13.kernel").data();
        double sumSq = 0;
        for (float v : k) sumSq += v * v;
        assertEquals(2.0 / (3 * 3 * 32), sumSq / k.length, 0.05 * 2.0 / (3 * 3 * 32));
    }

    /** Option A: stride-2 subsampling, channels zero-padded half before and half after, through a model. */
    @Test void optionAShortcutSubsamplesAndPadsChannels() {
        SymbolicTensor in = Input.of(4, 4, 2);
        Model m = new Model(in, new SubsampleChannelPad(2, 6).apply(in), "shortcut");
        assertEquals(Shape.of(2, 2, 6), m.output().shape());
        float[] x = new float[4 * 4 * 2];
        for (int i = 0; i < x.length; i++) x[i] = i + 1;
        try (ReferenceBackend b = new ReferenceBackend(); Executor ex = new Executor(m, b, 1)) {
            float[] y = ex.predictBatch(x, 1);
            // pixel (i, j) of the output is input pixel (2i, 2j): channels [0, 0, c0, c1, 0, 0]
            float[] expected = new float[2 * 2 * 6];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                    for (int c = 0; c < 2; c++) expected[(i * 2 + j) * 6 + 2 + c] = x[((2 * i) * 4 + 2 * j) * 2 + c];
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, y);
        }
    }
}
