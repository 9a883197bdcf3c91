package jresnet.train;

import java.util.ArrayList;
import java.util.List;
import jresnet.io.Json;

/**
 * Where a run stands: the epoch in progress (0-based), batches of it done, optimizer updates done,
 * the epoch's running sums, and the history of finished epochs. With the seed it determines the
 * data order and augmentation of everything that follows, so a run resumes from it exactly.
 */
public final class TrainingState {
    public int epoch;
    public int step;
    public long iterations;
    public double lossSum;
    public long correct;
    public long seen;
    public double seconds;
    public final List<EpochMetrics> history = new ArrayList<>();
    /**
     * The SHA-256 of best.safetensors as the run last wrote it, null before its first best epoch (and in
     * checkpoints written before it was recorded): resume tells a file replaced by hand from the run's own.
     */
    public String bestSha256;
    /**
     * The SHA-256 of the best.safetensors before the last one the run wrote (null where there was none):
     * a stop between the checkpoint and the file leaves that one in place, which resume restores over.
     */
    public String earlierBestSha256;

    /** checkpoint/state.json: the fields above and the name of the optimizer whose slots the checkpoint holds. */
    public record Saved(int epoch, int step, long iterations, double lossSum, long correct, long seen, double seconds,
                        List<EpochMetrics> history, @Json.Optional String optimizer, @Json.Optional String bestSha256,
                        @Json.Optional String earlierBestSha256) {}

    public Saved saved(String optimizer) {
        return new Saved(epoch, step, iterations, lossSum, correct, seen, seconds, List.copyOf(history), optimizer, bestSha256,
                earlierBestSha256);
    }

    public static TrainingState of(Saved saved) {
        TrainingState s = new TrainingState();
        s.epoch = saved.epoch();
        s.step = saved.step();
        s.iterations = saved.iterations();
        s.lossSum = saved.lossSum();
        s.correct = saved.correct();
        s.seen = saved.seen();
        s.seconds = saved.seconds();
        s.history.addAll(saved.history());
        s.bestSha256 = saved.bestSha256();
        s.earlierBestSha256 = saved.earlierBestSha256();
        return s;
    }
}
