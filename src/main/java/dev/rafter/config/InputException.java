package dev.rafter.config;

/**
 * Bad user input: a wrong file, key, value, unit or trace line. The CLI turns it into exit code 2 and prints
 * {@link #getMessage()} as one line, so the message must name the file, line or key and what was expected.
 */
public final class InputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InputException(String message) {
        super(message, null, false, false);
    }

    /** Prefixes the message with where the problem is (a file, or a file and line). */
    public InputException at(String where) {
        return new InputException(where + ": " + getMessage());
    }
}
