package io.relaygate.spi;

import java.nio.file.Path;
import java.util.concurrent.Executor;

/**
 * Capabilities the gateway lends to a plugin. Implemented by the gateway only; thread-safe.
 */
public interface GatewayContext {

    /** The role a gateway process plays. */
    enum Role {
        /** On the user's machine: the SOCKS5 / HTTP CONNECT proxy. */
        LOCAL,
        /** On a server: accepts links from local gateways. */
        REMOTE
    }

    /** {@return this gateway's role} */
    Role role();

    /** {@return the data directory (account store, admin token, saved settings); it may not exist yet} */
    Path dataDir();

    /**
     * {@return the bounded executor for blocking work (JDBC, DNS, key derivation)}. The only place a plugin may
     * block. A task it rejects with {@link java.util.concurrent.RejectedExecutionException} means the gateway is
     * overloaded or stopping; fail that one operation.
     */
    Executor blockingExecutor();
}
