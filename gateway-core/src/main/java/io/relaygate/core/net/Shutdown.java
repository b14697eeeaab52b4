package io.relaygate.core.net;

/** The cause given to connections closed because the gateway stops. Carries no stack trace: it is not a bug. */
public final class Shutdown extends Exception {

    private static final long serialVersionUID = 1L;

    /** The one instance. */
    public static final Shutdown INSTANCE = new Shutdown();

    private Shutdown() {
        super("gateway stopping", null, false, false);
    }
}
