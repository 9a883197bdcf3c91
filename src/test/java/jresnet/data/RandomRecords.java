package jresnet.data;

import java.util.SplittableRandom;

/** CIFAR-10 binary records of random pixels and random labels, the same for the same seed. */
public final class RandomRecords {
    private RandomRecords() {}

    public static byte[] bytes(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] records = new byte[n * Dataset.RECORD_BYTES];
        random.nextBytes(records);
        for (int i = 0; i < n; i++) records[i * Dataset.RECORD_BYTES] = (byte) random.nextInt(10);
        return records;
    }

    public static Dataset dataset(int n, long seed) { return Dataset.ofRecords(bytes(n, seed)); }
}
