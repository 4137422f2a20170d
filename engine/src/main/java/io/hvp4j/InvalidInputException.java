package io.hvp4j;

/**
 * Bad input from a user: a malformed file, a shape that does not match, a NaN where none is allowed,
 * an unknown name. The message is one line meant for the user; front ends print it without a stack trace.
 */
public class InvalidInputException extends IllegalArgumentException {
    /**
     * An error for the user.
     *
     * @param message one line for the user
     */
    public InvalidInputException(String message) {
        super(message);
    }

    /**
     * An error for the user, with the error that revealed it.
     *
     * @param message one line for the user
     * @param cause   the underlying error (e.g. an {@code IOException}), kept for logs
     */
    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
