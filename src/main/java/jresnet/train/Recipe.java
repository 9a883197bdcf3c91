package jresnet.train;

import java.util.Locale;
import jresnet.UserException;
import jresnet.data.BatchTransform;
import jresnet.data.Dataset;
import jresnet.optim.Adam;
import jresnet.optim.Optimizer;

/** A training recipe: optimizer, preprocessing and default length. */
public enum Recipe {
    /** The tutorial's: Keras Adam defaults, raw pixels, no augmentation, 20 epochs. */
    KERAS;

    public static Recipe parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException("--recipe: unknown recipe '" + name + "' (known: keras)");
        }
    }

    /** The recipe a model is trained with unless --recipe says otherwise. */
    public static Recipe defaultFor(String model) {
        return KERAS;
    }

    public String cliName() { return name().toLowerCase(Locale.ROOT); }

    public Optimizer optimizer() {
        return new Adam();
    }

    /** Preprocessing of training batches, given the training images (null: none). */
    public BatchTransform trainTransform(Dataset train) {
        return null;
    }

    /** Preprocessing of validation/test batches and predictions, given the training images (null: none). */
    public BatchTransform inferenceTransform(Dataset train) {
        return null;
    }

    public int defaultEpochs(int stepsPerEpoch) {
        return 20;
    }
}
