package jresnet;

/** The seed of a randomised test: a fresh one each run, or {@code -Djresnet.test.seed=S} to rerun a failure. */
public final class TestSeeds {
    private TestSeeds() {}

    public static long next() { return Long.getLong("jresnet.test.seed", System.nanoTime()); }
}
