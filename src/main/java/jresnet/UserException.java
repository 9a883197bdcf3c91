package jresnet;

/** A problem the user can fix (a file, a flag, a value): reported as one line, without a stack trace. */
public class UserException extends RuntimeException {
    public UserException(String message) {
        super(message);
    }

    public UserException(String message, Throwable cause) {
        super(message, cause);
    }
}
