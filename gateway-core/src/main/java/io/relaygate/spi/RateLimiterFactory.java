package io.relaygate.spi;

/** Creates a {@link RateLimiter}, selected by name with the {@code rateLimiter} key. Stateless. */
public interface RateLimiterFactory {

    /** {@return the name that selects this limiter, e.g. {@code "tokenBucket"}} */
    String name();

    /**
     * Creates the limiter, once at start.
     *
     * @throws ConfigException if the configuration is invalid
     */
    RateLimiter create(PluginConfig config, GatewayContext context);
}
