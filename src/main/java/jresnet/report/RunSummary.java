package jresnet.report;

import java.util.Arrays;
import java.util.List;

import jresnet.train.EpochMetrics;

/**
 * The figures the comparison table shows for one run. Accuracies are fractions (0..1); NaN where no
 * epoch was validated. finalValAccuracy is that of the last validated epoch; bestEpoch is the 1-based
 * number of the first epoch reaching the best validation accuracy, 0 when none was validated.
 */
public record RunSummary(String model, long params, String device, int epochs, double finalValAccuracy,
                         double bestValAccuracy, int bestEpoch, double medianEpochSeconds,
                         double medianImagesPerSecond) {

    public static RunSummary of(ModelRun run) {
        double finalValAccuracy = Double.NaN;
        double bestValAccuracy = Double.NaN;
        int bestEpoch = 0;
        for (EpochMetrics epoch : run.epochs()) {
            double accuracy = epoch.valAccuracy();
            if (Double.isNaN(accuracy)) {
                continue;
            }
            finalValAccuracy = accuracy;
            if (Double.isNaN(bestValAccuracy) || accuracy > bestValAccuracy) {
                bestValAccuracy = accuracy;
                bestEpoch = displayedEpoch(epoch);
            }
        }
        List<EpochMetrics> epochs = run.epochs();
        return new RunSummary(run.model(), run.params(), run.device(), epochs.size(), finalValAccuracy,
                bestValAccuracy, bestEpoch,
                median(epochs.stream().mapToDouble(EpochMetrics::seconds).toArray()),
                median(epochs.stream().mapToDouble(EpochMetrics::imagesPerSecond).toArray()));
    }

    /**
     * Epochs are shown counted from 1, as Keras prints them; {@link EpochMetrics#epoch()} is the 0-based
     * index that TensorBoard steps use.
     */
    static int displayedEpoch(EpochMetrics epoch) {
        return epoch.epoch() + 1;
    }

    /** The median of the values that are not NaN, NaN when there are none. */
    static double median(double[] values) {
        double[] known = Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (known.length == 0) {
            return Double.NaN;
        }
        int middle = known.length / 2;
        return known.length % 2 == 1 ? known[middle] : (known[middle - 1] + known[middle]) / 2;
    }
}
