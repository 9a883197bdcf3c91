package jresnet.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import jresnet.UserException;
import jresnet.data.BatchTransform;
import jresnet.data.Dataset;
import jresnet.data.HeAugmentation;
import jresnet.optim.Adam;
import jresnet.optim.Optimizer;
import jresnet.optim.Sgd;
import jresnet.optim.WarmupCosine;

/** A training recipe: optimizer, loss, preprocessing and default length. */
public enum Recipe {
    /** The tutorial's: Keras Adam defaults, raw pixels, no augmentation, 20 epochs. */
    KERAS,
    /**
     * He et al. 2015 on CIFAR-10: SGD momentum 0.9, weight decay 1e-4, lr 0.1 divided by 10 after 32k
     * and 48k updates, 64k updates, per-pixel mean subtraction, 4-pixel padding + random crop + flip.
     */
    HE2015,
    /**
     * He et al.'s networks in at most 40 epochs: SGD with Nesterov momentum 0.9, weight decay 5e-4, a linear
     * warm-up over the first 5% of the updates (2 of 40 epochs) to lr 0.1 then a cosine decay per update, label smoothing 0.1, per-channel
     * mean/std normalisation, the paper's 4-pixel padding + random crop + flip. Why each value: README.
     */
    FAST;

    /** Weights-file metadata key holding the per-pixel mean a model was trained with (base64 float32 LE). */
    public static final String PIXEL_MEAN = "pixel_mean";
    /** Weights-file metadata key holding the per-channel standard deviation the inputs are divided by (base64 float32 LE, 3 values). */
    public static final String CHANNEL_STD = "channel_std";
    /** Weights-file metadata key naming the recipe a model was trained with. */
    public static final String METADATA_KEY = "recipe";

    private static final int HE_ITERATIONS = 64_000;

    static final int FAST_EPOCHS = 40;
    static final double FAST_WARMUP_FRACTION = 0.05, FAST_PEAK_LR = 0.1, FAST_MOMENTUM = 0.9, FAST_WEIGHT_DECAY = 5e-4, FAST_LABEL_SMOOTHING = 0.1;

    /** Updates per epoch of the full 50,000-image training set at batch 128, for {@link #optimizer()}. */
    private static final int FULL_SET_STEPS = (50_000 + 127) / 128;

    public static Recipe parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException("--recipe: unknown recipe '" + name + "' (known: keras, he2015, fast)");
        }
    }

    /** He et al.'s family trains with their recipe, the tutorial's networks with the tutorial's. */
    public static Recipe defaultFor(String model) {
        return model.matches("(resnet|plain)(20|32|44|56|110)") ? HE2015 : KERAS;
    }

    public String cliName() { return name().toLowerCase(Locale.ROOT); }

    /** Every recipe's {@link #cliName}, in declaration order: the values --recipe takes. */
    public static String[] cliNames() {
        return Arrays.stream(values()).map(Recipe::cliName).toArray(String[]::new);
    }

    /** The optimizer of a run of the default length over the 50,000 training images at batch 128. */
    public Optimizer optimizer() {
        return optimizer(FULL_SET_STEPS, defaultEpochs(FULL_SET_STEPS));
    }

    /** The optimizer of a run of {@code epochs} epochs of {@code stepsPerEpoch} updates (the fast recipe's schedule spans them). */
    public Optimizer optimizer(int stepsPerEpoch, int epochs) {
        return switch (this) {
            case KERAS -> new Adam();
            case HE2015 -> new Sgd(new long[] {32_000, 48_000}, new double[] {0.1, 0.01, 0.001}, 0.9, 1e-4);
            case FAST -> {
                long updates = Math.max(1, (long) epochs * stepsPerEpoch);
                yield new Sgd(new WarmupCosine(FAST_PEAK_LR, (long) (FAST_WARMUP_FRACTION * updates), updates),
                        FAST_MOMENTUM, FAST_WEIGHT_DECAY, true);
            }
        };
    }

    /** Label smoothing of the training loss. */
    public double labelSmoothing() { return this == FAST ? FAST_LABEL_SMOOTHING : 0; }

    /** The recipe's every setting, for the run's config.json (the README says why each was chosen). */
    public Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", cliName());
        switch (this) {
            case KERAS -> {
                s.put("optimizer", "adam (Keras defaults)");
                s.put("preprocessing", "raw pixels 0..255");
                s.put("augmentation", "none");
                s.put("default_epochs", 20);
            }
            case HE2015 -> {
                s.put("optimizer", "sgd, momentum 0.9 (heavy ball), weight decay 1e-4 on every weight");
                s.put("learning_rate", "0.1, divided by 10 after 32,000 and 48,000 updates");
                s.put("preprocessing", "per-pixel mean of the training images subtracted");
                s.put("augmentation", "pad 4 zero pixels, random 32x32 crop, horizontal flip with p 1/2");
                s.put("default_updates", HE_ITERATIONS);
            }
            case FAST -> {
                s.put("optimizer", "sgd");
                s.put("momentum", FAST_MOMENTUM);
                s.put("nesterov", true);
                s.put("weight_decay", FAST_WEIGHT_DECAY);
                s.put("weight_decay_applies_to", "every trainable weight (conv and dense kernels and biases, BN gamma and beta)");
                s.put("peak_learning_rate", FAST_PEAK_LR);
                s.put("warmup_fraction_of_updates", FAST_WARMUP_FRACTION);
                s.put("schedule", "linear warm-up from 0 to the peak, then cosine to 0, updated every step; spans the run's epochs");
                s.put("label_smoothing", FAST_LABEL_SMOOTHING);
                s.put("preprocessing", "per-channel mean subtracted and divided by the per-channel std, both of the training images");
                s.put("augmentation", "pad 4 zero pixels, random 32x32 crop, horizontal flip with p 1/2");
                s.put("recommended_batch_size", 128);
                s.put("default_epochs", FAST_EPOCHS);
            }
        }
        return s;
    }

    /** Weights-file metadata that inference needs to preprocess like training does (computed from the training images). */
    public Map<String, String> inferenceMetadata(Dataset train) {
        return switch (this) {
            case KERAS -> Map.of();
            case HE2015 -> Map.of(PIXEL_MEAN, encode(HeAugmentation.fromTrainingSet(train).mean()));
            case FAST -> {
                float[][] stats = HeAugmentation.channelStatistics(train);
                for (int c = 0; c < stats[1].length; c++) {
                    if (!(stats[1][c] > 0)) {
                        throw new UserException("recipe fast: the training images do not vary in colour channel " + c
                                + " (standard deviation 0), and the recipe divides each channel by its standard deviation; "
                                + "train these images with --recipe he2015 or keras");
                    }
                }
                // insertion-ordered: the weights files' bytes must not depend on a JVM's hash seed (bit-exact resume)
                Map<String, String> m = new LinkedHashMap<>();
                m.put(PIXEL_MEAN, encode(HeAugmentation.uniformMean(stats[0])));
                m.put(CHANNEL_STD, encode(stats[1]));
                yield m;
            }
        };
    }

    /** Preprocessing of training batches, given {@link #inferenceMetadata} (null: none). */
    public BatchTransform trainTransform(Map<String, String> metadata) {
        return this == KERAS ? null : normalization(metadata, "recipe " + cliName());
    }

    /** The inference preprocessing recorded in a weights file's metadata (null: raw pixels). */
    public static BatchTransform inferenceTransform(Map<String, String> metadata, String source) {
        return metadata.containsKey(PIXEL_MEAN) ? normalization(metadata, source).evaluation() : null;
    }

    /** The input normalisation recorded in a weights file's metadata (mean image, channel scale), or null for raw pixels. */
    public static HeAugmentation recordedNormalization(Map<String, String> metadata, String source) {
        return metadata.containsKey(PIXEL_MEAN) ? normalization(metadata, source) : null;
    }

    /**
     * The recipe a weights file was trained with: as recorded, or for files written before the recipe
     * was recorded, from the normalisation it carries (fast: mean and channel deviations; he2015: a
     * mean; keras: none).
     */
    public static Recipe recorded(Map<String, String> metadata, String source) {
        String name = metadata.get(METADATA_KEY);
        if (name == null) return metadata.containsKey(CHANNEL_STD) ? FAST : metadata.containsKey(PIXEL_MEAN) ? HE2015 : KERAS;
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException(source + ": metadata '" + METADATA_KEY + "' names an unknown recipe '" + name + "'");
        }
    }

    private static HeAugmentation normalization(Map<String, String> metadata, String source) {
        float[] mean = floats(metadata, PIXEL_MEAN, HeAugmentation.SIZE * HeAugmentation.SIZE * HeAugmentation.CHANNELS,
                "a 32x32x3 float32 mean image", source);
        if (!metadata.containsKey(CHANNEL_STD)) return new HeAugmentation(mean);
        float[] std = floats(metadata, CHANNEL_STD, HeAugmentation.CHANNELS, "3 positive float32 standard deviations", source);
        float[] scale = new float[std.length];
        for (int c = 0; c < std.length; c++) {
            if (!(std[c] > 0 && Float.isFinite(std[c]))) {
                throw new UserException(source + ": metadata '" + CHANNEL_STD + "' is not 3 positive float32 standard deviations: "
                        + std[c]);
            }
            scale[c] = 1 / std[c];
        }
        return new HeAugmentation(mean, scale);
    }

    private static float[] floats(Map<String, String> metadata, String key, int count, String what, String source) {
        try {
            byte[] bytes = Base64.getDecoder().decode(metadata.get(key));
            float[] values = new float[bytes.length / 4];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            if (values.length != count) throw new IllegalArgumentException(values.length + " values");
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) throw new IllegalArgumentException("value " + i + " is " + values[i]);
            }
            return values;
        } catch (IllegalArgumentException e) {
            throw new UserException(source + ": metadata '" + key + "' is not " + what + ": " + e.getMessage());
        }
    }

    public int defaultEpochs(int stepsPerEpoch) {
        return switch (this) {
            case KERAS -> 20;
            case HE2015 -> (HE_ITERATIONS + stepsPerEpoch - 1) / stepsPerEpoch;
            case FAST -> FAST_EPOCHS;
        };
    }

    private static String encode(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return Base64.getEncoder().encodeToString(b.array());
    }
}
