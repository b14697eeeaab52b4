package io.relaygate.core.cli;

/** The process exit statuses of DESIGN.md. */
public final class ExitCodes {

    /** Normal stop, including after SIGTERM or SIGINT. */
    public static final int OK = 0;
    /** Any failure to start other than usage or configuration: a port in use, an unreadable directory. */
    public static final int START_FAILURE = 1;
    /** A usage or configuration error, reported before any port opens. */
    public static final int USAGE = 2;

    private ExitCodes() {
    }
}
