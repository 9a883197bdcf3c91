package jresnet.backend.cuda;

import java.util.List;

/** What {@link Doctor#run()} found: ok when CUDA training can run; one line per check, in order. */
public record DoctorReport(boolean ok, List<String> lines) {
    public DoctorReport {
        lines = List.copyOf(lines);
    }
}
