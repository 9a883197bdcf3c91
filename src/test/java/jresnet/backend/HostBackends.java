package jresnet.backend;

import java.util.function.Supplier;
import java.util.stream.Stream;
import jresnet.backend.cpu.CpuBackend;
import jresnet.backend.reference.ReferenceBackend;

/** The backends that need no device, for tests of cases worked out by hand: {@code @MethodSource(HostBackends.ALL)}. */
public final class HostBackends {
    public static final String ALL = "jresnet.backend.HostBackends#all";

    private HostBackends() {}

    public static Stream<Supplier<Backend>> all() {
        return Stream.of(ReferenceBackend::new, CpuBackend::new);
    }
}
