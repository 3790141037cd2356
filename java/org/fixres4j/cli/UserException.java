package org.fixres4j.cli;

/** A failure the user can fix (bad input, missing tool); printed as one line, without a stack trace. */
final class UserException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UserException(String message) {
        super(message);
    }

    UserException(String message, Throwable cause) {
        super(message, cause);
    }
}
