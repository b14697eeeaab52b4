package io.relaygate.core;

import io.relaygate.core.config.ConfigError;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.config.SectionConfig;
import io.relaygate.core.inbound.Protocol;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.ConfigException;
import io.relaygate.spi.ConsoleFactory;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.ProtocolFactory;
import io.relaygate.spi.RateLimiter;
import io.relaygate.spi.RateLimiterFactory;
import io.relaygate.spi.Resolver;
import io.relaygate.spi.ResolverFactory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the plugins contribute to one gateway, made from the configuration: the protocols, the resolver, the account
 * store, the rate limiter and the console factory. Every {@code plugins.<name>} section must be consumed by the part
 * it configures; one that no plugin provides is an error naming it.
 *
 * @param protocols   the inbound protocols, by name; never empty
 * @param resolver    the resolver
 * @param store       the account store, or null when none is configured
 * @param limiter     the rate limiter, or null when none is needed
 * @param console     the console factory, or null when no console plugin is installed
 */
record PluginParts(List<Protocol> protocols, Resolver resolver, AccountStore store, RateLimiter limiter,
                   ConsoleFactory console) {

    private static final Logger log = LoggerFactory.getLogger(PluginParts.class);

    /**
     * Creates the parts. The store and the limiter may hold resources: on failure whatever was created is closed.
     *
     * @param resolver a resolver that replaces the configured one (tests), or null
     * @throws ConfigError    naming the file, line, key and expectation
     * @throws StartException when no protocol plugin is found, or a part cannot be opened
     */
    static PluginParts create(GatewayConfig config, List<GatewayPlugin> plugins, GatewayContext context,
                              Resolver resolver) {
        Set<String> sections = new TreeSet<>(config.settings().sectionsUnder(GatewayConfig.PLUGINS + "."));
        AccountStore store = null;
        RateLimiter limiter = null;
        try {
            List<Protocol> protocols = protocols(config, plugins, context, sections);
            if (protocols.isEmpty()) {
                throw new StartException("no protocol plugin found (plugins directory: " + config.pluginsDir() + ")",
                        null);
            }
            Resolver chosen = resolver != null ? resolver : resolver(config, plugins, context, sections);
            if (config.accountStore() != null) {
                sections.remove(config.accountStore());
                store = AccountStores.open(config.accountStore(), config, plugins, context);
            }
            limiter = limiter(config, plugins, context, sections);
            ConsoleFactory console = console(plugins, sections);
            for (String unknown : sections) {
                throw ConfigError.of(new ConfigException(GatewayConfig.PLUGINS + "." + unknown,
                        "no plugin provides \"" + unknown + "\" (found: " + allNames(plugins) + ")"),
                        config.settings());
            }
            return new PluginParts(List.copyOf(protocols), chosen, store, limiter, console);
        } catch (RuntimeException e) {
            if (store != null) {
                store.close();
            }
            if (limiter != null) {
                limiter.close();
            }
            throw e;
        }
    }

    /** Creates a plugin part from its section, which must then hold no unknown key. */
    static <T> T configure(GatewayConfig config, String name, Set<String> sections, Function<SectionConfig, T> create) {
        sections.remove(name);
        SectionConfig section = new SectionConfig(config.settings(), GatewayConfig.PLUGINS + "." + name);
        try {
            T created = create.apply(section);
            section.requireAllConsumed();
            return created;
        } catch (ConfigException e) {
            throw ConfigError.of(e, config.settings());
        }
    }

    private static List<Protocol> protocols(GatewayConfig config, List<GatewayPlugin> plugins,
                                            GatewayContext context, Set<String> sections) {
        List<ProtocolFactory> factories = new ArrayList<>();
        plugins.forEach(p -> factories.addAll(p.protocols()));
        factories.sort(Comparator.comparing(ProtocolFactory::name));
        List<Protocol> protocols = new ArrayList<>();
        for (ProtocolFactory factory : factories) {
            protocols.add(new Protocol(factory.name(), configure(config, factory.name(), sections,
                    c -> factory.create(c, context))));
        }
        return protocols;
    }

    private static Resolver resolver(GatewayConfig config, List<GatewayPlugin> plugins, GatewayContext context,
                                     Set<String> sections) {
        if ("system".equals(config.resolver())) {
            return Resolver.SYSTEM;
        }
        for (GatewayPlugin plugin : plugins) {
            for (ResolverFactory factory : plugin.resolvers()) {
                if (factory.name().equals(config.resolver())) {
                    return configure(config, factory.name(), sections, c -> factory.create(c, context));
                }
            }
        }
        throw ConfigError.of(new ConfigException("resolver", "\"" + config.resolver()
                + "\" (expected: system, or a resolver plugin's name; found: " + allNames(plugins) + ")"),
                config.settings());
    }

    /**
     * The remote shapes every user to their rate, so its limiter is required unless {@code rateLimiter: none}; the
     * local needs one only for {@code rateLimit}.
     */
    private static RateLimiter limiter(GatewayConfig config, List<GatewayPlugin> plugins, GatewayContext context,
                                       Set<String> sections) {
        String name = config.rateLimiter();
        boolean remoteRole = config.role() == GatewayContext.Role.REMOTE;
        if (name == null || (!remoteRole && config.local().rateLimit() == 0)) {
            if (remoteRole) {
                log.warn("rateLimiter: none: user rates are recorded but not enforced");
            }
            return null;
        }
        for (GatewayPlugin plugin : plugins) {
            for (RateLimiterFactory factory : plugin.rateLimiters()) {
                if (factory.name().equals(name)) {
                    return configure(config, factory.name(), sections, c -> factory.create(c, context));
                }
            }
        }
        throw ConfigError.of(new ConfigException("rateLimiter", "\"" + name + "\" (expected: none, or a rate limiter"
                + " plugin's name; found: " + allNames(plugins) + ")"), config.settings());
    }

    private static ConsoleFactory console(List<GatewayPlugin> plugins, Set<String> sections) {
        for (GatewayPlugin plugin : plugins) {
            for (ConsoleFactory factory : plugin.consoles()) {
                sections.remove(factory.name());
                return factory;
            }
        }
        return null;
    }

    /** Fails, as a start would, on a {@code plugins.<name>} section that none of {@code plugins} provides. */
    static void checkSections(GatewayConfig config, List<GatewayPlugin> plugins) {
        List<String> provided = new ArrayList<>(List.of(allNames(plugins).split(", ")));
        for (String section : config.settings().sectionsUnder(GatewayConfig.PLUGINS + ".")) {
            if (!provided.contains(section)) {
                throw ConfigError.of(new ConfigException(GatewayConfig.PLUGINS + "." + section,
                        "no plugin provides \"" + section + "\" (found: " + allNames(plugins) + ")"),
                        config.settings());
            }
        }
    }

    private static String allNames(List<GatewayPlugin> plugins) {
        List<String> names = new ArrayList<>();
        for (GatewayPlugin plugin : plugins) {
            plugin.protocols().forEach(f -> names.add(f.name()));
            plugin.accountStores().forEach(f -> names.add(f.name()));
            plugin.resolvers().forEach(f -> names.add(f.name()));
            plugin.rateLimiters().forEach(f -> names.add(f.name()));
            plugin.consoles().forEach(f -> names.add(f.name()));
        }
        return names.isEmpty() ? "none" : String.join(", ", names);
    }
}
