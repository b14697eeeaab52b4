package io.relaygate.core;

/**
 * The gateway could not start for a reason other than its configuration: a port in use, an unreadable directory,
 * a plugin that fails. The message is one line for the user; the command line exits with status 1.
 */
public final class StartException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public StartException(String message, Throwable cause) {
        super(message, cause);
    }
}
