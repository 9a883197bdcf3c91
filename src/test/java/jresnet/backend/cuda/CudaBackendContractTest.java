package jresnet.backend.cuda;

import java.util.Arrays;
import java.util.Optional;
import jresnet.backend.Backend;
import jresnet.backend.BackendContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/**
 * The op contract on the CUDA backend, TF32 off. Skipped, with doctor's findings, where no GPU is
 * usable; the Maven build also runs it on the emulated device (see {@link GpuAvailability}), so the
 * backend's Java path and our kernels are checked on every build.
 */
@Tag("gpu")
class CudaBackendContractTest extends BackendContractTest {
    /** Convolutions with the algorithms cuDNN picks for training sum in another order than the reference. */
    static final Tolerances CUDA = new Tolerances(1e-5, 1e-4, 5e-4);

    @Override protected Backend open() { return CudaBackend.open(); }

    @Override protected Tolerances tolerances() { return CUDA; }

    @Override protected Optional<String> unavailableReason() { return GpuAvailability.skipReason(); }

    /** Runs before the base class closes the backend. */
    @AfterAll
    void reportAlgorithmsAndPool() {
        if (!(backend() instanceof CudaBackend cuda)) return;
        System.out.println("cuDNN algorithms chosen (forward, backward data, backward filter):");
        cuda.convolutionAlgorithms().forEach((g, a) -> System.out.println("  " + g + " -> " + Arrays.toString(a)));
        System.out.println("pool: " + cuda.poolStatistics());
    }
}
