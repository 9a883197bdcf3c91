package jresnet.models;

import jresnet.nn.Add;
import jresnet.nn.AveragePooling2D;
import jresnet.nn.BatchNormalization;
import jresnet.nn.Conv2D;
import jresnet.nn.Dense;
import jresnet.nn.Flatten;
import jresnet.nn.Input;
import jresnet.nn.LayerNames;
import jresnet.nn.Model;
import jresnet.nn.ReLU;
import jresnet.nn.SymbolicTensor;

/**
 * The Keras tutorial's networks (create_res_net / create_plain_net), parametric in blocks per stage
 * and base width; the width doubles at each stage and the first block of every stage but the first
 * downsamples with stride 2. The plain twin replaces each residual block by its two convolutions.
 */
public final class TutorialNets {
    private TutorialNets() {}

    public static Model resnet30() { return resnet(new int[] {2, 5, 5, 2}, 64, 4, "resnet30"); }

    public static Model plain30() { return plain(new int[] {2, 5, 5, 2}, 64, 4, "plain30"); }

    /** The tutorial's ResNet: stem, residual blocks, AveragePooling2D(pool), Flatten, Dense(10, softmax). */
    public static Model resnet(int[] blocksPerStage, int baseFilters, int pool, String name) {
        return build(blocksPerStage, baseFilters, pool, name, true);
    }

    /** The plain twin: the same convolutions without shortcuts (two per residual block). */
    public static Model plain(int[] blocksPerStage, int baseFilters, int pool, String name) {
        return build(blocksPerStage, baseFilters, pool, name, false);
    }

    /** The network, its layers named from zero as in a fresh Keras session (the user's counters left as they were). */
    private static Model build(int[] blocksPerStage, int baseFilters, int pool, String name, boolean residual) {
        return LayerNames.fresh(() -> layers(blocksPerStage, baseFilters, pool, name, residual));
    }

    private static Model layers(int[] blocksPerStage, int baseFilters, int pool, String name, boolean residual) {
        SymbolicTensor inputs = Input.of(32, 32, 3);
        int filters = baseFilters;
        SymbolicTensor t = new BatchNormalization().apply(inputs);
        t = new Conv2D(filters, 3, 1, "same").apply(t);
        t = reluBn(t);
        for (int stage = 0; stage < blocksPerStage.length; stage++) {
            for (int block = 0; block < blocksPerStage[stage]; block++) {
                boolean downsample = block == 0 && stage != 0;
                t = residual ? residualBlock(t, downsample, filters) : plainBlock(t, downsample, filters);
            }
            filters *= 2;
        }
        t = new AveragePooling2D(pool).apply(t);
        t = new Flatten().apply(t);
        SymbolicTensor outputs = new Dense(10, "softmax").apply(t);
        return new Model(inputs, outputs, name);
    }

    private static SymbolicTensor reluBn(SymbolicTensor x) {
        return new BatchNormalization().apply(new ReLU().apply(x));
    }

    private static SymbolicTensor residualBlock(SymbolicTensor x, boolean downsample, int filters) {
        SymbolicTensor y = new Conv2D(filters, 3, downsample ? 2 : 1, "same").apply(x);
        y = reluBn(y);
        y = new Conv2D(filters, 3, 1, "same").apply(y);
        if (downsample) x = new Conv2D(filters, 1, 2, "same").apply(x);
        return reluBn(new Add().apply(x, y));
    }

    private static SymbolicTensor plainBlock(SymbolicTensor x, boolean downsample, int filters) {
        SymbolicTensor y = reluBn(new Conv2D(filters, 3, downsample ? 2 : 1, "same").apply(x));
        return reluBn(new Conv2D(filters, 3, 1, "same").apply(y));
    }
}
