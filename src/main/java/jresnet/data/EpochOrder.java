package jresnet.data;

import java.util.SplittableRandom;

/** The order in which an epoch visits the training images: a function of (seed, epoch) only. */
public final class EpochOrder {
    /** Spreads consecutive epochs over unrelated seeds (the 64-bit golden ratio, as SplittableRandom uses). */
    private static final long EPOCH_STRIDE = 0x9E3779B97F4A7C15L;

    private EpochOrder() {}

    /**
     * A permutation of 0..n-1 by Fisher–Yates, driven by a SplittableRandom seeded from seed and epoch;
     * the same on every run and JVM.
     */
    public static int[] permutation(long seed, int epoch, int n) {
        if (n < 0) throw new IllegalArgumentException("permutation size must be >= 0, got " + n);
        // A SplittableRandom's stream is a pure function of its seed; hashing (seed, epoch) through one
        // gives each epoch a seed unrelated to its neighbours' (seed + k*gamma would only shift the stream).
        long epochSeed = new SplittableRandom(seed ^ EPOCH_STRIDE * (epoch + 1L)).nextLong();
        SplittableRandom random = new SplittableRandom(epochSeed);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
