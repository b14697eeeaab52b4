package io.relaygate.core.net;

import java.io.IOException;

/**
 * A port broke for a reason the access log names: a link stream reset by the peer, a link that closed under its
 * streams, a link protocol error. Carries no stack trace: the outcome is the information.
 */
public final class PortException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String outcome;

    /** @param outcome the tunnel outcome for the access log, one of a few fixed words */
    public PortException(String outcome, String detail) {
        super(detail);
        this.outcome = outcome;
    }

    /** {@return the tunnel outcome to record} */
    public String outcome() {
        return outcome;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
