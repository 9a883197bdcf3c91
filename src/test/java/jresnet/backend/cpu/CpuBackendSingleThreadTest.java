package jresnet.backend.cpu;

import jresnet.backend.Backend;
import jresnet.backend.BackendContractTest;

/** The op contract on the CPU backend with one worker thread: every loop runs unsplit. */
class CpuBackendSingleThreadTest extends BackendContractTest {
    /** The CPU backend keeps float32 sums in short blocks and double across them: close to the reference everywhere. */
    static final Tolerances CPU = new Tolerances(1e-5, 1e-5, 1e-5);

    @Override protected Backend open() { return new CpuBackend(1); }

    @Override protected Tolerances tolerances() { return CPU; }

    @Override protected String describe(Backend backend) { return "cpu, " + ((CpuBackend) backend).threads() + " thread(s)"; }
}
