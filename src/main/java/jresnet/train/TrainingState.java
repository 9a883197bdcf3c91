package jresnet.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("step", step);
        m.put("iterations", iterations);
        m.put("loss_sum", lossSum);
        m.put("correct", correct);
        m.put("seen", seen);
        m.put("seconds", seconds);
        List<Object> h = new ArrayList<>();
        for (EpochMetrics e : history) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("epoch", e.epoch());
            r.put("loss", e.loss());
            r.put("accuracy", e.accuracy());
            r.put("val_loss", finiteOrNull(e.valLoss()));
            r.put("val_accuracy", finiteOrNull(e.valAccuracy()));
            r.put("seconds", e.seconds());
            r.put("images_per_s", e.imagesPerSecond());
            r.put("learning_rate", e.learningRate());
            h.add(r);
        }
        m.put("history", h);
        return m;
    }

    private static Object finiteOrNull(double v) { return Double.isFinite(v) ? v : null; }

    public static TrainingState fromJson(Map<String, Object> m) {
        TrainingState s = new TrainingState();
        s.epoch = ((Number) m.get("epoch")).intValue();
        s.step = ((Number) m.get("step")).intValue();
        s.iterations = ((Number) m.get("iterations")).longValue();
        s.lossSum = ((Number) m.get("loss_sum")).doubleValue();
        s.correct = ((Number) m.get("correct")).longValue();
        s.seen = ((Number) m.get("seen")).longValue();
        s.seconds = ((Number) m.get("seconds")).doubleValue();
        for (Object o : (List<?>) m.get("history")) {
            Map<?, ?> r = (Map<?, ?>) o;
            s.history.add(new EpochMetrics(((Number) r.get("epoch")).intValue(), num(r, "loss"), num(r, "accuracy"),
                    num(r, "val_loss"), num(r, "val_accuracy"), num(r, "seconds"), num(r, "images_per_s"),
                    num(r, "learning_rate")));
        }
        return s;
    }

    private static double num(Map<?, ?> r, String key) {
        Object v = r.get(key);
        return v == null ? Double.NaN : ((Number) v).doubleValue();
    }
}
