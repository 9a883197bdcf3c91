package jresnet.train;

import java.util.Locale;
import jresnet.UserException;
import jresnet.backend.Backend;
import jresnet.nn.Model;
import jresnet.nn.Node;
import jresnet.tensor.Shape;

/**
 * Checks a batch size against a model before any buffer is allocated: every activation of a batch
 * must fit one Java array, and on a host backend all activations must fit the heap. Failing either
 * ends in one line with a batch size that fits, instead of an overflow or an OutOfMemoryError deep
 * inside the executor.
 */
public final class BatchMemory {
    private static final int FLOAT_BYTES = 4;
    /** Activations are at least matched by their gradients during training. */
    private static final int COPIES_WHILE_TRAINING = 2;

    private BatchMemory() {}

    /** The heap is checked for the backends that keep their tensors in it (all but cuda, whose pool reports its own shortage). */
    public static void requireFits(Model model, int batchSize, Backend backend) {
        boolean hostMemory = !backend.name().equals("cuda");
        long largest = model.input().shape().size(), total = largest;
        Shape largestShape = model.input().shape();
        for (Node n : model.nodes()) {
            long size = n.output().shape().size();
            total += size;
            if (size > largest) {
                largest = size;
                largestShape = n.output().shape();
            }
        }
        if ((double) largest * batchSize > Integer.MAX_VALUE) {
            throw new UserException(String.format(Locale.ROOT,
                    "--batch-size %d is too large for %s: an activation of shape %s per image would hold %,d values "
                            + "at this batch size, more than one array can (%,d); try --batch-size %d",
                    batchSize, model.name(), largestShape, largest * batchSize, Integer.MAX_VALUE, Integer.MAX_VALUE / largest));
        }
        double needed = (double) total * batchSize * FLOAT_BYTES;
        long heap = Runtime.getRuntime().maxMemory();
        if (hostMemory && needed > heap) {
            long fits = heap / (total * FLOAT_BYTES * COPIES_WHILE_TRAINING);
            throw new UserException(String.format(Locale.ROOT,
                    "out of host memory: %s at batch size %d needs at least %.1f GiB for its activations, the Java heap "
                            + "holds %.1f GiB; %s or a larger heap (JRESNET_JAVA_OPTS=-Xmx...)",
                    model.name(), batchSize, needed / (1L << 30), heap / (double) (1L << 30),
                    fits >= 1 ? "try --batch-size " + fits : "the model does not fit even one image; try a smaller model"));
        }
    }
}
