package jresnet.train;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jresnet.backend.cuda.CudaBackend;
import jresnet.backend.cuda.GpuAvailability;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** NonFinitePolicyTest's cases on the CUDA backend (a GPU or the emulated device). */
@Tag("gpu")
class CudaNonFinitePolicyTest {

    @Test void stopNamesEpochAndStepAndLeavesWeightsUntouched() {
        assumeTrue(GpuAvailability.skipReason().isEmpty(), () -> GpuAvailability.skipReason().orElse(""));
        try (CudaBackend b = CudaBackend.open()) {
            NonFinitePolicyTest.stopNamesEpochAndStepAndLeavesWeightsUntouched(b);
        }
    }

    @Test void skipBatchLeavesThePoisonedBatchOutAndTrainsOn() {
        assumeTrue(GpuAvailability.skipReason().isEmpty(), () -> GpuAvailability.skipReason().orElse(""));
        try (CudaBackend b = CudaBackend.open()) {
            NonFinitePolicyTest.skipBatchLeavesThePoisonedBatchOutAndTrainsOn(b);
        }
    }
}
