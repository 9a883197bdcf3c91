package jresnet.cli;

/** A bad command line: one error line that points to --help, exit code 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) { super(message); }
}
