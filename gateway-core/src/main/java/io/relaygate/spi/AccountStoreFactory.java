package io.relaygate.spi;

/** Creates an {@link AccountStore}, selected by name with the {@code accountStore} key. Stateless. */
public interface AccountStoreFactory {

    /** {@return the name that selects this store, e.g. {@code "sqlite"}} */
    String name();

    /**
     * Creates the store, once at start. May do I/O (open a database).
     *
     * @throws ConfigException if the configuration is invalid
     * @throws IllegalStateException if the store cannot be opened; the gateway exits 1 with the message
     */
    AccountStore create(PluginConfig config, GatewayContext context);
}
