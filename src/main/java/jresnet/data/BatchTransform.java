package jresnet.data;

/** Preprocessing applied in place to a batch of n NHWC images (0..255 floats) before a training step. */
public interface BatchTransform {
    void apply(float[] images, int n, java.util.SplittableRandom random);
}
