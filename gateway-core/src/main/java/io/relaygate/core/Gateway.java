package io.relaygate.core;

import io.relaygate.core.config.ConfigError;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.config.HostPort;
import io.relaygate.core.config.SectionConfig;
import io.relaygate.core.link.DecoyIterations;
import io.relaygate.core.link.ScramServer;
import io.relaygate.core.plugin.LoadedPlugin;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.tunnel.AuthDamper;
import io.relaygate.core.tunnel.ConnectionLimits;
import io.relaygate.core.tunnel.Connector;
import io.relaygate.core.policy.DestinationPolicy;
import io.relaygate.core.tunnel.Dialer;
import io.relaygate.core.tunnel.GatewayStats;
import io.relaygate.core.tunnel.LinkSecret;
import io.relaygate.core.tunnel.Listener;
import io.relaygate.core.tunnel.PasswordVerifier;
import io.relaygate.core.tunnel.Protocol;
import io.relaygate.core.tunnel.Shaping;
import io.relaygate.core.tunnel.Shutdown;
import io.relaygate.core.tunnel.TunnelServices;
import io.relaygate.core.tunnel.UserSessions;
import io.relaygate.spi.AccountChange;
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
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: its event loops, listeners and plugins. Start one with {@link #builder(GatewayConfig)}; stop it
 * with {@link #shutdown(Duration)} (drain) or {@link #close()} (at once).
 */
public final class Gateway implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    private final GatewayConfig config;
    private final List<EventLoop> loops;
    private final ThreadPoolExecutor blocking;
    private final BufferPool pool;
    private final GatewayStats stats;
    private final ConnectionLimits limits;
    private final AccountStore accountStore;
    private final List<Listener> listeners;
    private final UserSessions sessions;
    private final Shaping shaping;
    private final RateLimiter limiter;
    private final GatewayContext context;
    private final List<Protocol> protocols;
    private final boolean authRequired;
    private TunnelServices services;
    /** Where new tunnels go; the console may point it elsewhere (local role). */
    /** The local role's link settings and connectors; null on the remote. */
    private LocalLinks links;
    private ConsoleFactory consoleFactory;
    private ConsoleFactory.Console console;
    /** Periodic work off the loops: the traffic flush (remote) and the damping report. */
    private ScheduledExecutorService housekeeping;
    private boolean started;
    private boolean stopped;

    private Gateway(Builder builder) {
        this.config = builder.config;
        this.builderPasswordMissing = builder.linkPassword.length == 0;
        List<GatewayPlugin> plugins = builder.plugins;
        GatewayConfig.Reactor reactor = config.reactor();
        Set<String> sections = new TreeSet<>(config.settings().sectionsUnder(GatewayConfig.PLUGINS + "."));
        DataDirectory.secure(config.dataDir());
        this.blocking = newBlockingExecutor(reactor);
        this.context = new Context(config, blocking);
        List<Protocol> protocols;
        Resolver resolver;
        AccountStore store = null;
        RateLimiter rateLimiter = null;
        try {
            protocols = createProtocols(plugins, context, sections);
            if (protocols.isEmpty()) {
                throw new StartException("no protocol plugin found (plugins directory: " + config.pluginsDir() + ")",
                        null);
            }
            resolver = builder.resolver != null ? builder.resolver : createResolver(plugins, context, sections);
            store = createAccountStore(plugins, context, sections);
            rateLimiter = createRateLimiter(plugins, context, sections);
            consoleFactory = findConsole(plugins, sections);
            for (String unknown : sections) {
                throw ConfigError.of(new ConfigException(GatewayConfig.PLUGINS + "." + unknown,
                        "no plugin provides \"" + unknown + "\" (found: " + allNames(plugins) + ")"),
                        config.settings());
            }
            checkRole();
            if (config.role() == GatewayContext.Role.LOCAL) {
                checkNotOpenProxy(config.listen().host(), store != null);
            }
        } catch (RuntimeException e) {
            blocking.shutdownNow();
            if (store != null) {
                store.close();
            }
            if (rateLimiter != null) {
                rateLimiter.close();
            }
            throw e;
        }
        this.accountStore = store;
        this.limiter = rateLimiter;
        this.protocols = protocols;
        this.authRequired = accountStore != null;

        this.stats = new GatewayStats();
        this.limits = new ConnectionLimits(config.limits().maxConnections(), config.limits().maxHandshakesPerSource(),
                config.limits().maxIdleLinksPerUser(), stats);
        this.pool = new BufferPool(reactor.bufferSize(), reactor.maxPooledBuffers());
        GatewayConfig.Timeouts timeouts = config.timeouts();
        boolean remoteRole = config.role() == GatewayContext.Role.REMOTE;
        Dialer dialer = new Dialer(resolver, blocking, timeouts.dns(), timeouts.connect(),
                remoteRole ? DestinationPolicy.restrictive(config.allowDestinations()) : DestinationPolicy.OPEN);
        Connector connector = Connector.direct(dialer);
        if (!remoteRole) {
            links = new LocalLinks(config, new Dialer(resolver, blocking, timeouts.dns(), timeouts.connect()), blocking,
                    connector, builder.linkPassword);
            connector = links.connector();
        }
        this.sessions = remoteRole ? new UserSessions() : null;
        if (remoteRole) {
            this.shaping = Shaping.perUser(limiter);
        } else if (limiter != null) {
            this.shaping = Shaping.overall(limiter, config.rateLimit());
        } else {
            this.shaping = Shaping.none();
        }
        this.services = new TunnelServices(pool, stats, limits, timeouts, connector,
                new PasswordVerifier(accountStore, shaping::loggedIn), blocking, sessions,
                new AuthDamper(config.limits().authFailuresBeforeDelay(), config.limits().authFailuresBeforeRefusal()),
                shaping);
        housekeeping = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "relaygate-housekeeping");
            t.setDaemon(true);
            return t;
        });
        AuthDamper damper = services.damper();
        housekeeping.scheduleWithFixedDelay(() -> damper.reportIfDue(System.nanoTime()), 1, 1, TimeUnit.MINUTES);
        if (remoteRole) {
            watchAccounts();
        }
        this.loops = new ArrayList<>();
        for (int i = 0; i < reactor.eventLoops(); i++) {
            loops.add(new EventLoop("relaygate-loop-" + i));
        }
        this.listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
        byte[] secret;
        try {
            secret = remoteRole ? LinkSecret.load(config.dataDir()) : null;
        } catch (IOException e) {
            close();
            throw new StartException("data directory " + config.dataDir() + ": " + describe(e), e);
        }
        HostPort binding = config.listen();
        try {
            if (remoteRole) {
                SecureRandom random = new SecureRandom();
                AccountStore accounts = accountStore;
                DecoyIterations decoys = new DecoyIterations(secret, config.passwordIterations(),
                        accounts::iterationCounts);
                accounts.addListener(change -> decoys.accountsChanged());
                Supplier<ScramServer> scram = () -> new ScramServer(secret, decoys, accounts::find, random);
                listeners.add(new Listener("link", binding.toSocketAddress(), loops, services,
                        Listener.links(services, dialer, scram)));
                if (config.directListen() != null) {
                    binding = config.directListen();
                    listeners.add(new Listener("direct", binding.toSocketAddress(), loops, services,
                            Listener.clients(services, protocols, true)));
                }
                warnIfPlaintextLinkIsExposed();
            } else {
                listeners.add(new Listener("mixed", binding.toSocketAddress(), loops, services,
                        Listener.clients(services, protocols, authRequired)));
            }
            dialer.ownListeners(Set.copyOf(listeners.stream().map(Listener::address).toList()));
            for (Listener listener : listeners) {
                listener.start();
            }
        } catch (IOException e) {
            close();
            throw new StartException("cannot listen on " + binding + ": " + describe(e), e);
        }
        started = true;
        if (links != null) {
            links.warm(loops);
        }
        startConsole();
        if (consoleAddress() != null) {
            // The console is one of the gateway's own listeners: never a tunnel's destination, on either role.
            java.util.Set<InetSocketAddress> own = new java.util.HashSet<>();
            listeners.forEach(l -> own.add(l.address()));
            own.add(consoleAddress());
            dialer.ownListeners(own);
        }
        long fdLimit = GatewayConfig.fdLimit();
        if (2L * config.limits().maxConnections() + 1024 > fdLimit) {
            log.warn("limits.maxConnections {} needs about {} open files, but this process may open {};"
                    + " raise the limit (ulimit -n) or lower limits.maxConnections",
                    config.limits().maxConnections(), 2L * config.limits().maxConnections() + 1024, fdLimit);
        }
        log.info("gateway started: role {}, {} event loops, protocols {}, client authentication {}{}",
                config.role().name().toLowerCase(java.util.Locale.ROOT), loops.size(),
                protocols.stream().map(Protocol::name).toList(), authRequired ? "required" : "off",
                config.remote() != null ? ", remote " + config.remote() + " as " + config.user() : "");
    }

    /** Starts the console, if one is configured and installed; a console that cannot start stops the gateway. */
    private void startConsole() {
        if (config.console() == null) {
            return;
        }
        if (consoleFactory == null) {
            log.info("no console plugin installed: the web console is off");
            return;
        }
        try {
            console = configure(consoleFactory.name(), new TreeSet<>(),
                    c -> consoleFactory.start(c, new GatewayAdmin(this), config.console().toSocketAddress()));
        } catch (java.io.UncheckedIOException e) {
            close();
            throw new StartException("cannot start the console on " + config.console() + ": "
                    + describe(e.getCause()), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static ConsoleFactory findConsole(List<GatewayPlugin> plugins, Set<String> sections) {
        for (GatewayPlugin plugin : plugins) {
            for (ConsoleFactory factory : plugin.consoles()) {
                sections.remove(factory.name());
                return factory;
            }
        }
        return null;
    }

    /** {@return the role, data directory and blocking executor, as plugins see them} */
    GatewayContext context() {
        return context;
    }

    /** {@return the account store, or null without one} */
    AccountStore accountStore() {
        return accountStore;
    }

    /** {@return the console's address, or null when there is no console} */
    public InetSocketAddress consoleAddress() {
        ConsoleFactory.Console running = console;
        return running == null ? null : running.address();
    }

    // ---- the local proxy's controls, for the console (see GatewayAdmin) ----

    /** {@return whether the local's client listener is open} */
    synchronized boolean proxyRunning() {
        return listeners.stream().anyMatch(l -> l.name().equals("mixed"));
    }

    /** Opens the local's client listener again, on the address it had. */
    synchronized void startProxy() throws IOException {
        if (stopped || proxyRunning()) {
            return;
        }
        InetSocketAddress address = mixedAddress != null ? mixedAddress : config.listen().toSocketAddress();
        Listener mixed = new Listener("mixed", address, loops, services,
                Listener.clients(services, protocols, authRequired));
        mixed.start();
        listeners.add(mixed);
        log.info("local proxy listener opened on {}", HostPort.of(mixed.address()));
    }

    /** Closes the local's client listener; tunnels already open go on. */
    synchronized void stopProxy() {
        for (Listener listener : listeners) {
            if (listener.name().equals("mixed")) {
                mixedAddress = listener.address();
                listener.close();
                listeners.remove(listener);
                log.info("local proxy listener closed");
            }
        }
    }

    private InetSocketAddress mixedAddress;

    /** {@return the local's link settings and connectors, or null on the remote role} */
    LocalLinks links() {
        return links;
    }

    /** {@return a builder that starts a gateway with this configuration} */
    public static Builder builder(GatewayConfig config) {
        return new Builder(config);
    }

    /** Collects what a gateway is started with. */
    public static final class Builder {
        private final GatewayConfig config;
        private List<GatewayPlugin> plugins = List.of();
        private Resolver resolver;
        private byte[] linkPassword = new byte[0];

        private Builder(GatewayConfig config) {
            this.config = config;
        }

        /** The plugins to use, e.g. from {@link io.relaygate.core.plugin.PluginLoader}. */
        public Builder plugins(List<GatewayPlugin> plugins) {
            this.plugins = List.copyOf(plugins);
            return this;
        }

        /** The plugins to use, as {@link io.relaygate.core.plugin.PluginLoader} found them. */
        public Builder loadedPlugins(List<LoadedPlugin> plugins) {
            return plugins(plugins.stream().map(LoadedPlugin::plugin).toList());
        }

        /** The password of {@code user} on the remote gateway (local role with a remote); copied. */
        public Builder linkPassword(byte[] password) {
            this.linkPassword = password.clone();
            return this;
        }

        /** A resolver that replaces the configured one (tests use a fixed table). */
        public Builder resolver(Resolver resolver) {
            this.resolver = resolver;
            return this;
        }

        /**
         * Starts the gateway: binds its listeners and starts accepting.
         *
         * @throws ConfigError   for an invalid configuration (a plugin's section, a missing plugin)
         * @throws StartException for any other reason it cannot start (a port in use)
         */
        public Gateway start() {
            return new Gateway(this);
        }
    }

    /** {@return the listeners, in the order they were bound} */
    public List<Listener> listeners() {
        return List.copyOf(listeners);
    }

    /** {@return the address of the listener called {@code name}, e.g. {@code mixed}} */
    public InetSocketAddress address(String name) {
        return listeners.stream().filter(l -> l.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no listener " + name)).address();
    }

    /** {@return the remote's live tunnels by user, or null on the local role} */
    public UserSessions sessions() {
        return sessions;
    }

    /**
     * Follows the account store: a disabled or deleted user's live tunnels close at once (the feed sees other
     * processes' writes within its poll interval); traffic is persisted as increments every 5 seconds and at stop.
     */
    private void watchAccounts() {
        accountStore.addListener(change -> {
            boolean revoked = change.kind() == AccountChange.Kind.DELETED
                    || (change.kind() == AccountChange.Kind.UPDATED && !change.account().enabled());
            if (change.kind() == AccountChange.Kind.DELETED) {
                shaping.deleted(change.name());
            } else {
                shaping.rateChanged(change.name(), change.account().rate());
            }
            if (revoked) {
                int closed = sessions.revoke(change.name());
                if (closed > 0) {
                    log.info("user {} {}: closing {} live tunnels", change.name(),
                            change.kind() == AccountChange.Kind.DELETED ? "deleted" : "disabled", closed);
                }
            }
        });
        housekeeping.scheduleWithFixedDelay(this::flushTraffic, 5, 5, TimeUnit.SECONDS);
    }

    private void flushTraffic() {
        java.util.Map<String, long[]> traffic = sessions.drainTraffic();
        if (traffic.isEmpty()) {
            return;
        }
        try {
            accountStore.addTraffic(traffic);
        } catch (RuntimeException e) {
            // Keep the increments for the next try rather than lose them.
            traffic.forEach((user, bytes) -> sessions.addTrafficBack(user, bytes));
            log.warn("persisting traffic counters failed, will retry: {}", e.toString());
        }
    }

    /** {@return the gateway's counters} */
    public GatewayStats stats() {
        return stats;
    }

    /** {@return the relay buffer pool, whose {@link BufferPool#inUse()} tells the buffered memory} */
    public BufferPool bufferPool() {
        return pool;
    }

    /** {@return the configuration it runs with} */
    public GatewayConfig config() {
        return config;
    }

    /**
     * Stops gracefully: stops accepting at once, lets open tunnels finish until {@code drain} has passed, then
     * closes the rest and stops. Idempotent.
     */
    public synchronized void shutdown(Duration drain) {
        if (stopped) {
            return;
        }
        listeners.forEach(Listener::close);
        if (sessions != null) {
            sessions.closeIdleLinks();
        }
        int open = stats.openConnections();
        if (open > 0) {
            log.info("stopped accepting; draining {} connections for up to {} s", open, drain.toSeconds());
        }
        boolean drained;
        try {
            drained = limits.awaitNoConnections(drain.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        if (!drained) {
            log.info("drain deadline passed; closing {} connections", stats.openConnections());
        }
        close();
    }

    /** Stops at once: closes every listener and connection, then the loops. Idempotent. */
    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        if (console != null) {
            try {
                console.close();
            } catch (RuntimeException e) {
                log.warn("stopping the console failed: {}", e.toString());
            }
        }
        if (listeners != null) {
            listeners.forEach(Listener::close);
        }
        if (loops != null) {
            loops.forEach(loop -> loop.execute(() -> loop.failAll(Shutdown.INSTANCE)));
            loops.forEach(EventLoop::shutdown);
            for (EventLoop loop : loops) {
                try {
                    if (!loop.awaitTermination(5, TimeUnit.SECONDS)) {
                        log.warn("an event loop did not stop within 5 s");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        blocking.shutdownNow();
        if (housekeeping != null) {
            housekeeping.shutdownNow();
        }
        if (sessions != null && accountStore != null) {
            flushTraffic();
        }
        if (limiter != null) {
            try {
                limiter.close();
            } catch (RuntimeException e) {
                log.warn("closing the rate limiter failed: {}", e.toString());
            }
        }
        if (accountStore != null) {
            try {
                accountStore.close();
            } catch (RuntimeException e) {
                log.warn("closing the account store failed: {}", e.toString());
            }
        }
        if (started) {
            log.info("gateway stopped");
        }
    }

    // ---- assembly ----

    private List<Protocol> createProtocols(List<GatewayPlugin> plugins, GatewayContext context, Set<String> sections) {
        List<ProtocolFactory> factories = new ArrayList<>();
        plugins.forEach(p -> factories.addAll(p.protocols()));
        factories.sort(Comparator.comparing(ProtocolFactory::name));
        List<Protocol> protocols = new ArrayList<>();
        for (ProtocolFactory factory : factories) {
            protocols.add(new Protocol(factory.name(), configure(factory.name(), sections,
                    c -> factory.create(c, context))));
        }
        return protocols;
    }

    private Resolver createResolver(List<GatewayPlugin> plugins, GatewayContext context, Set<String> sections) {
        if ("system".equals(config.resolver())) {
            return Resolver.SYSTEM;
        }
        for (GatewayPlugin plugin : plugins) {
            for (ResolverFactory factory : plugin.resolvers()) {
                if (factory.name().equals(config.resolver())) {
                    return configure(factory.name(), sections, c -> factory.create(c, context));
                }
            }
        }
        throw ConfigError.of(new ConfigException("resolver", "\"" + config.resolver()
                + "\" (expected: system, or a resolver plugin's name; found: " + allNames(plugins) + ")"),
                config.settings());
    }

    private AccountStore createAccountStore(List<GatewayPlugin> plugins, GatewayContext context,
                                            Set<String> sections) {
        if (config.accountStore() == null) {
            return null;
        }
        sections.remove(config.accountStore());
        return AccountStores.open(config.accountStore(), config, plugins, context);
    }

    /**
     * The remote shapes every user to their rate, so its limiter is required unless {@code rateLimiter: none}; the
     * local needs one only for {@code rateLimit}.
     */
    private RateLimiter createRateLimiter(List<GatewayPlugin> plugins, GatewayContext context, Set<String> sections) {
        String name = config.rateLimiter();
        boolean remoteRole = config.role() == GatewayContext.Role.REMOTE;
        if (name == null || (!remoteRole && config.rateLimit() == 0)) {
            if (remoteRole) {
                log.warn("rateLimiter: none: user rates are recorded but not enforced");
            }
            return null;
        }
        for (GatewayPlugin plugin : plugins) {
            for (RateLimiterFactory factory : plugin.rateLimiters()) {
                if (factory.name().equals(name)) {
                    return configure(factory.name(), sections, c -> factory.create(c, context));
                }
            }
        }
        throw ConfigError.of(new ConfigException("rateLimiter", "\"" + name + "\" (expected: none, or a rate limiter"
                + " plugin's name; found: " + allNames(plugins) + ")"), config.settings());
    }

    /** {@return the per-principal traffic and shaping} */
    public Shaping shaping() {
        return shaping;
    }

    /** Creates a plugin part from its section, which must then hold no unknown key. */
    private <T> T configure(String name, Set<String> sections, Function<SectionConfig, T> create) {
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

    private void checkRole() {
        if (config.role() == GatewayContext.Role.LOCAL && config.remote() != null) {
            if (builderPasswordMissing) {
                throw new ConfigError("no password for user " + config.user() + " on the remote gateway (expected:"
                        + " GATEWAY_PASSWORD in the environment, or --password-file)");
            }
        }
    }

    private boolean builderPasswordMissing;

    /** Until TLS exists, the link is plaintext: it belongs on loopback or a private network the operator trusts. */
    private void warnIfPlaintextLinkIsExposed() {
        for (Listener listener : listeners) {
            if (listener.name().equals("link") && !listener.address().getAddress().isLoopbackAddress()) {
                log.warn("************************************************************************************");
                log.warn("the link listener {} is not on loopback and the link has no TLS yet: user names and"
                        + " tunnel contents cross the network in the clear (passwords never do)",
                        listener.address());
                log.warn("************************************************************************************");
            }
        }
    }

    /** An open proxy is never an accident: a listener without authentication stays on loopback unless allowed. */
    private void checkNotOpenProxy(String host, boolean authRequired) {
        if (authRequired || config.allowOpenProxy()) {
            return;
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            loopback = false;
        }
        if (!loopback) {
            throw ConfigError.of(new ConfigException("listen", "\"" + config.listen()
                    + "\" would be an open proxy: no client authentication on a non-loopback address"
                    + " (expected: a loopback address, an accountStore, or --allow-open-proxy)"), config.settings());
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

    private static String describe(IOException e) {
        if (e instanceof BindException) {
            return e.getMessage() == null ? "address in use" : e.getMessage();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static ThreadPoolExecutor newBlockingExecutor(GatewayConfig.Reactor reactor) {
        AtomicInteger counter = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "relaygate-blocking-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        ThreadPoolExecutor executor = new ThreadPoolExecutor(reactor.blockingThreads(), reactor.blockingThreads(),
                30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(reactor.blockingQueue()), threads,
                new ThreadPoolExecutor.AbortPolicy());
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /** {@return the context plugins get, for a configuration and an executor (the CLI uses a direct one)} */
    public static GatewayContext context(GatewayConfig config, Executor blockingExecutor) {
        return new Context(config, blockingExecutor);
    }

    private record Context(GatewayConfig config, Executor blockingExecutor) implements GatewayContext {
        @Override
        public Role role() {
            return config.role();
        }

        @Override
        public Path dataDir() {
            return config.dataDir();
        }
    }
}
