package io.relaygate.spi;

/** Creates a {@link Resolver}, selected by name with the {@code resolver} key. Stateless. */
public interface ResolverFactory {

    /** {@return the name that selects this resolver} */
    String name();

    /**
     * Creates the resolver, once at start.
     *
     * @throws ConfigException if the configuration is invalid
     */
    Resolver create(PluginConfig config, GatewayContext context);
}
