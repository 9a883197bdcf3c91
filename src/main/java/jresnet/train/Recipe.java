package jresnet.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import jresnet.UserException;
import jresnet.data.BatchTransform;
import jresnet.data.Dataset;
import jresnet.data.HeAugmentation;
import jresnet.optim.Adam;
import jresnet.optim.Optimizer;
import jresnet.optim.Sgd;

/** A training recipe: optimizer, preprocessing and default length. */
public enum Recipe {
    /** The tutorial's: Keras Adam defaults, raw pixels, no augmentation, 20 epochs. */
    KERAS,
    /**
     * He et al. 2015 on CIFAR-10: SGD momentum 0.9, weight decay 1e-4, lr 0.1 divided by 10 after 32k
     * and 48k updates, 64k updates, per-pixel mean subtraction, 4-pixel padding + random crop + flip.
     */
    HE2015;

    /** Weights-file metadata key holding the per-pixel mean a model was trained with (base64 float32 LE). */
    public static final String PIXEL_MEAN = "pixel_mean";

    private static final int HE_ITERATIONS = 64_000;

    public static Recipe parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException("--recipe: unknown recipe '" + name + "' (known: keras, he2015)");
        }
    }

    /** He et al.'s family trains with their recipe, the tutorial's networks with the tutorial's. */
    public static Recipe defaultFor(String model) {
        return model.matches("(resnet|plain)(20|32|44|56|110)") ? HE2015 : KERAS;
    }

    public String cliName() { return name().toLowerCase(Locale.ROOT); }

    public Optimizer optimizer() {
        return switch (this) {
            case KERAS -> new Adam();
            case HE2015 -> new Sgd(new long[] {32_000, 48_000}, new double[] {0.1, 0.01, 0.001}, 0.9, 1e-4);
        };
    }

    /** Weights-file metadata that inference needs to preprocess like training does (computed from the training images). */
    public Map<String, String> inferenceMetadata(Dataset train) {
        return this == HE2015 ? Map.of(PIXEL_MEAN, encode(HeAugmentation.fromTrainingSet(train).mean())) : Map.of();
    }

    /** Preprocessing of training batches, given {@link #inferenceMetadata} (null: none). */
    public BatchTransform trainTransform(Map<String, String> metadata) {
        return this == HE2015 ? new HeAugmentation(pixelMean(metadata, "recipe he2015")) : null;
    }

    /** The inference preprocessing recorded in a weights file's metadata (null: raw pixels). */
    public static BatchTransform inferenceTransform(Map<String, String> metadata, String source) {
        return metadata.containsKey(PIXEL_MEAN) ? new HeAugmentation(pixelMean(metadata, source)).evaluation() : null;
    }

    private static float[] pixelMean(Map<String, String> metadata, String source) {
        try {
            byte[] bytes = Base64.getDecoder().decode(metadata.get(PIXEL_MEAN));
            float[] values = new float[bytes.length / 4];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            if (values.length != HeAugmentation.SIZE * HeAugmentation.SIZE * HeAugmentation.CHANNELS) {
                throw new IllegalArgumentException(values.length + " values");
            }
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) throw new IllegalArgumentException("value " + i + " is " + values[i]);
            }
            return values;
        } catch (IllegalArgumentException e) {
            throw new UserException(source + ": metadata '" + PIXEL_MEAN + "' is not a 32x32x3 float32 mean image: " + e.getMessage());
        }
    }

    public int defaultEpochs(int stepsPerEpoch) {
        return this == HE2015 ? (HE_ITERATIONS + stepsPerEpoch - 1) / stepsPerEpoch : 20;
    }

    private static String encode(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return Base64.getEncoder().encodeToString(b.array());
    }
}
