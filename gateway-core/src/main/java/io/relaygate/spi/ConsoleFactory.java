package io.relaygate.spi;

import java.net.InetSocketAddress;

/**
 * Starts an admin console (the web console): an extension that gets the gateway's {@link AdminApi}. Stateless; its
 * configuration section is {@code plugins.<name>}.
 */
public interface ConsoleFactory {

    /** {@return the name of the console and of its configuration section, e.g. {@code "console"}} */
    String name();

    /**
     * Binds and starts the console, once, on the starting thread, after the gateway's listeners are bound.
     *
     * @param bind where to listen (port 0: one chosen by the system)
     * @return the running console, never null
     * @throws ConfigException if its configuration is invalid (the gateway then exits 2)
     * @throws java.io.UncheckedIOException if it cannot listen or read its files (the gateway then exits 1)
     */
    Console start(PluginConfig config, AdminApi admin, InetSocketAddress bind);

    /** A running console. */
    interface Console extends AutoCloseable {

        /** {@return the bound address} */
        InetSocketAddress address();

        /** Stops serving and releases its threads. Called once, when the gateway stops; never throws. */
        @Override
        void close();
    }
}
