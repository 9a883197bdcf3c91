package jresnet.models;

import jresnet.backend.Padding;
import jresnet.nn.Add;
import jresnet.nn.BatchNormalization;
import jresnet.nn.Conv2D;
import jresnet.nn.Dense;
import jresnet.nn.GlobalAveragePooling2D;
import jresnet.nn.Initializer;
import jresnet.nn.Input;
import jresnet.nn.LayerNames;
import jresnet.nn.Model;
import jresnet.nn.ReLU;
import jresnet.nn.SubsampleChannelPad;
import jresnet.nn.SymbolicTensor;

/**
 * He et al. 2015 (section 4.2) CIFAR-10 networks of 6n+2 layers: a 3x3 convolution with 16 filters,
 * three stages of n blocks with 16, 32 and 64 filters (the first block of the second and third stage
 * halves the size with stride 2), global average pooling and Dense(10, softmax). Every convolution
 * is followed by BatchNormalization then ReLU; the residual variant adds an identity shortcut around
 * each pair of convolutions before the second ReLU, option A (subsample + zero channels) where the
 * size changes. Convolutions are He-normal initialised and have no bias (BatchNormalization follows).
 */
public final class HeNets {
    private HeNets() {}

    public static Model resnet(int depth) { return build(depth, true, "resnet" + depth); }

    public static Model plain(int depth) { return build(depth, false, "plain" + depth); }

    /** The network, its layers named from zero as in a fresh Keras session (the user's counters left as they were). */
    private static Model build(int depth, boolean residual, String name) {
        return LayerNames.fresh(() -> layers(depth, residual, name));
    }

    private static Model layers(int depth, boolean residual, String name) {
        if (depth < 8 || (depth - 2) % 6 != 0) {
            throw new IllegalArgumentException("depth must be 6n+2 with n ≥ 1 (20, 32, 44, 56, 110), got " + depth);
        }
        int blocks = (depth - 2) / 6;
        SymbolicTensor inputs = Input.of(32, 32, 3);
        SymbolicTensor t = new ReLU().apply(convBn(inputs, 16, 1));
        for (int stage = 0; stage < 3; stage++) {
            int filters = 16 << stage;
            for (int block = 0; block < blocks; block++) {
                int stride = block == 0 && stage > 0 ? 2 : 1;
                SymbolicTensor y = new ReLU().apply(convBn(t, filters, stride));
                y = convBn(y, filters, 1);
                if (residual) {
                    SymbolicTensor shortcut = stride == 1 ? t : new SubsampleChannelPad(stride, filters).apply(t);
                    y = new Add().apply(shortcut, y);
                }
                t = new ReLU().apply(y);
            }
        }
        t = new GlobalAveragePooling2D().apply(t);
        return new Model(inputs, new Dense(10, "softmax").apply(t), name);
    }

    /**
     * Batch-norm momentum 0.9 (Torch's 0.1), as the original Torch implementation of these nets ran:
     * with lr 0.1 the weights move fast, and Keras's 0.99 lets the moving statistics lag so far behind
     * (about 100 steps, more than an epoch of a quick run) that inference accuracy trails training.
     */
    private static final double BN_MOMENTUM = 0.9;

    private static SymbolicTensor convBn(SymbolicTensor x, int filters, int stride) {
        SymbolicTensor y = new Conv2D(filters, 3, stride, Padding.SAME, false, Initializer.HE_NORMAL, null).apply(x);
        return new BatchNormalization(BN_MOMENTUM, 1e-3, null).apply(y);
    }
}
