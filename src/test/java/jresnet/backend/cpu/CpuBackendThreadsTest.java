package jresnet.backend.cpu;

import jresnet.backend.Backend;

/** The op contract on the CPU backend with three worker threads: an odd split, more threads than the CI machine's two cores. */
class CpuBackendThreadsTest extends CpuBackendSingleThreadTest {
    @Override protected Backend open() { return new CpuBackend(3); }
}
