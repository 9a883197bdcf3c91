package jresnet.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the command line in-process, capturing what it prints. */
final class CliRun {
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream(), stderr = new ByteArrayOutputStream();

    /** The exit code of one command; out() and err() then hold what it printed. */
    int run(String... args) {
        stdout.reset();
        stderr.reset();
        return new Main(new PrintStream(stdout, true, StandardCharsets.UTF_8),
                new PrintStream(stderr, true, StandardCharsets.UTF_8)).run(args);
    }

    String out() { return stdout.toString(StandardCharsets.UTF_8); }

    String err() { return stderr.toString(StandardCharsets.UTF_8); }
}
