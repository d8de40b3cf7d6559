package dev.rafter.config;

/**
 * Bad user input: a wrong file, key, value, unit or trace line. The CLI turns it into exit code 2 and prints
 * {@link #getMessage()} as one line, so the message must name the file, line or key and what was expected.
 */
public final class InputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean located;

    /** A problem whose message names a key relative to where it was found; the reader adds the place. */
    public InputException(String message) {
        this(message, false);
    }

    private InputException(String message, boolean located) {
        super(message, null, false, false);
        this.located = located;
    }

    /** A problem whose message already names its file (or line) and full key. */
    public static InputException located(String message) {
        return new InputException(message, true);
    }

    public boolean isLocated() {
        return located;
    }

    /** Prefixes the message with where the problem is (a file, or a file and line). */
    public InputException at(String where) {
        return new InputException(where + ": " + getMessage(), true);
    }
}
