package io.relaygate.spi;

import java.util.List;

/**
 * The entry point of a plugin, discovered with {@link java.util.ServiceLoader}. Every contribution defaults to none,
 * so a new kind of extension is a new default method and no existing plugin breaks.
 * <p>
 * Implementations need a public no-argument constructor that does no I/O, starts no threads and reads no files;
 * the gateway calls the methods below once, at start, on the starting thread.
 */
public interface GatewayPlugin {

    /** {@return the plugin's name, shown by {@code gateway plugins} and in logs, e.g. {@code "socks5"}} */
    String name();

    /** {@return the plugin's version; by default the Implementation-Version of its jar, or {@code "dev"}} */
    default String version() {
        String version = getClass().getPackage().getImplementationVersion();
        return version != null ? version : "dev";
    }

    /** {@return the inbound protocols this plugin serves on the mixed port} */
    default List<ProtocolFactory> protocols() {
        return List.of();
    }

    /** {@return the account stores this plugin offers, selected by name with the {@code accountStore} key} */
    default List<AccountStoreFactory> accountStores() {
        return List.of();
    }

    /** {@return the rate limiters this plugin offers, selected by name with the {@code rateLimiter} key} */
    default List<RateLimiterFactory> rateLimiters() {
        return List.of();
    }

    /** {@return the name resolvers this plugin offers, selected by name with the {@code resolver} key} */
    default List<ResolverFactory> resolvers() {
        return List.of();
    }

    /**
     * {@return the consoles this plugin offers; the gateway starts the first one found when {@code console} is not
     * {@code off}, after its listeners are bound}
     */
    default List<ConsoleFactory> consoles() {
        return List.of();
    }
}
