package io.relaygate.core;

import io.relaygate.core.accounts.Allowances;
import io.relaygate.core.accounts.UserSessions;
import io.relaygate.core.admin.GatewayAdmin;
import io.relaygate.core.config.ConfigError;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.net.ProxyPreface;
import io.relaygate.core.policy.DestinationPolicy;
import io.relaygate.core.inbound.InboundConnection;
import io.relaygate.core.link.LinkSecret;
import io.relaygate.core.link.LinkServerHandshake;
import io.relaygate.core.link.ExposedServices;
import io.relaygate.core.link.LinkServices;
import io.relaygate.core.link.ReversePorts;
import io.relaygate.core.link.StreamWindows;
import io.relaygate.core.net.Listener;
import io.relaygate.core.net.Shutdown;
import io.relaygate.core.plugin.LoadedPlugin;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.stats.GatewayStats;
import io.relaygate.core.tls.LinkCertificate;
import io.relaygate.core.tls.LinkTls;
import io.relaygate.core.wire.DecoyIterations;
import io.relaygate.core.wire.ScramServer;
import io.relaygate.spi.ConsoleFactory;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.Resolver;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: its event loops, listeners and plugins. {@link #builder(GatewayConfig)} assembles one (the
 * plugins' parts, the shared services; no event loop, no socket) and then starts it: each part is opened in order
 * and recorded, and stopping ({@link #shutdown(Duration)} after a drain, or {@link #close()} at once) closes them in
 * the reverse order. Thread-safe.
 */
public final class Gateway implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    private final GatewayConfig config;
    /** The configuration as last reloaded: its live keys are the ones in force. */
    private volatile GatewayConfig live;
    private final boolean remoteRole;
    private final GatewayContext context;
    private final PluginParts parts;
    private final Services services;
    private final Components components = new Components();
    private final List<EventLoop> loops = new ArrayList<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile ConsoleFactory.Console console;
    private volatile String linkFingerprint;
    private volatile ReversePorts reversePorts;
    private boolean started;
    private boolean stopped;

    private Gateway(Builder builder) {
        this.config = builder.config;
        this.live = builder.config;
        this.remoteRole = config.role() == GatewayContext.Role.REMOTE;
        if (config.roleConfig() instanceof GatewayConfig.LocalConfig local && local.remote() != null
                && builder.linkPassword.length == 0) {
            throw new ConfigError("no password for user " + local.user() + " on the remote gateway (expected:"
                    + " GATEWAY_PASSWORD in the environment, or --password-file)");
        }
        DataDirectory.secure(config.dataDir());
        ThreadPoolExecutor blocking = newBlockingExecutor(config.reactor());
        components.add("blocking executor", blocking::shutdownNow);
        this.context = new Context(config, blocking);
        try {
            this.parts = PluginParts.create(config, builder.plugins, context, builder.resolver);
            if (parts.store() != null) {
                components.add("account store", parts.store());
            }
            if (parts.limiter() != null) {
                components.add("rate limiter", parts.limiter());
            }
            if (!remoteRole) {
                Exposure.checkNotOpenProxy(config, parts.store() != null);
            }
        } catch (RuntimeException e) {
            components.close();
            throw e;
        }
        this.services = Services.assemble(config, parts, blocking, builder.linkPassword, loops, listeners,
                builder.clock);
    }

    /** Opens every part in order; on a failure closes what was opened and rethrows. */
    private synchronized Gateway start() {
        try {
            if (config.logLevel() != null) {
                LogLevels.apply(config.logLevel());
            }
            ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "relaygate-housekeeping");
                t.setDaemon(true);
                return t;
            });
            components.add("housekeeping", housekeeping::shutdownNow);
            housekeeping.scheduleWithFixedDelay(() -> services.damper().reportIfDue(System.nanoTime()), 1, 1, TimeUnit.MINUTES);
            byte[] secret = remoteRole ? linkSecret() : null;
            DecoyIterations decoys = remoteRole ? new DecoyIterations(secret, config.passwordIterations(),
                    parts.store()::iterationCounts) : null;
            if (remoteRole) {
                components.add("account follower", new AccountFollower(parts.store(), services.sessions(),
                        services.allowances(), decoys, housekeeping));
            }
            components.add("event loops", this::stopLoops);
            for (int i = 0; i < config.reactor().eventLoops(); i++) {
                loops.add(new EventLoop("relaygate-loop-" + i));
            }
            components.add("listeners", () -> listeners.forEach(Listener::close));
            openListeners(secret, decoys);
            if (services.links() != null) {
                services.links().warm(loops);
                components.add("local proxy", services.localProxy()::close);
            }
            startConsole();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        started = true;
        long fdLimit = GatewayConfig.fdLimit();
        if (2L * config.limits().maxConnections() + 1024 > fdLimit) {
            log.warn("limits.maxConnections {} needs about {} open files, but this process may open {};"
                    + " raise the limit (ulimit -n) or lower limits.maxConnections",
                    config.limits().maxConnections(), 2L * config.limits().maxConnections() + 1024, fdLimit);
        }
        log.info("gateway started: role {}, {} event loops, protocols {}, client authentication {}{}",
                config.role().name().toLowerCase(Locale.ROOT), loops.size(),
                parts.protocols().stream().map(p -> p.name()).toList(), parts.store() != null ? "required" : "off",
                config.roleConfig() instanceof GatewayConfig.LocalConfig local && local.remote() != null
                        ? ", remote " + local.remote() + " as " + local.user() : "");
        return this;
    }

    /** The remote's link TLS, or null when the link is plaintext; records the fingerprint it presents. */
    private LinkTls linkTls() {
        GatewayConfig.RemoteConfig remote = config.remoteRole();
        if (!remote.linkTls()) {
            return null;
        }
        try {
            LinkCertificate certificate = remote.linkCertificate() != null
                    ? LinkCertificate.load(remote.linkCertificate(), remote.linkKey())
                    : LinkCertificate.loadOrCreate(config.dataDir());
            linkFingerprint = certificate.fingerprint();
            log.info("link fingerprint {} (a local pins it with --remote-fingerprint)", linkFingerprint);
            return LinkTls.server(certificate);
        } catch (IOException e) {
            throw new StartException("link certificate: " + e.getMessage(), e);
        } catch (java.security.GeneralSecurityException e) {
            throw new StartException("link TLS: " + e.getMessage(), e);
        }
    }

    /** {@return the services this local exposes through its remote, or null when it exposes none} */
    public ExposedServices exposedServices() {
        return services.links() == null ? null : services.links().exposed();
    }

    /** {@return the remote's public ports of the reverse tunnel, or null without a pool (or on a local)} */
    public ReversePorts reversePorts() {
        return reversePorts;
    }

    /** {@return the fingerprint of the certificate the remote's link presents, or null for a plaintext link} */
    public String linkFingerprint() {
        return linkFingerprint;
    }

    private byte[] linkSecret() {
        try {
            return LinkSecret.load(config.dataDir());
        } catch (IOException e) {
            throw new StartException("data directory " + config.dataDir() + ": " + describe(e), e);
        }
    }

    /** Binds every listener first (a port in use fails before any serves), then starts them. */
    private void openListeners(byte[] secret, DecoyIterations decoys) {
        var binding = config.listen();
        try {
            if (remoteRole) {
                SecureRandom random = new SecureRandom();
                var accounts = parts.store();
                Allowances allowances = services.relay().allowances();
                if (config.remoteRole().reverse().enabled()) {
                    reversePorts = new ReversePorts(config.remoteRole().reverse(), accounts,
                            context.blockingExecutor(), services.limits(), services.relay());
                    accounts.addListener(reversePorts::accountChanged);
                    allowances.whenExpired(reversePorts::userExpired);
                    components.add("reverse ports", reversePorts);
                }
                LinkServices linkServices = new LinkServices(services.relay(), services.dialer(),
                        () -> new ScramServer(secret, decoys, allowances::lookUp, allowances::loginRefusal, random),
                        services.damper(),
                        services.limits(), config.timeouts(), context.blockingExecutor(), linkTls(),
                        config.limits().maxStreamsPerLink(), StreamWindows.of(config.limits()), reversePorts,
                        services.associations());
                List<DestinationPolicy.Rule> proxies = config.remoteRole().trustedProxies();
                java.util.function.LongSupplier headerDeadline = () -> live.timeouts().handshake().toNanos();
                listeners.add(new Listener("link", binding.toSocketAddress(), loops, services.limits(),
                        services.stats(), ProxyPreface.trusting(proxies, LinkServerHandshake.factory(linkServices),
                                headerDeadline, services.stats())));
                if (config.remoteRole().directListen() != null) {
                    binding = config.remoteRole().directListen();
                    listeners.add(new Listener("direct", binding.toSocketAddress(), loops, services.limits(),
                            services.stats(), ProxyPreface.trusting(proxies, InboundConnection.factory(
                                    services.inbound(), true), headerDeadline, services.stats())));
                }
                if (linkFingerprint == null) {
                    Exposure.warnIfPlaintextLinkIsExposed(listeners);
                }
            } else {
                services.localProxy().bind();
            }
            updateOwnListeners();
            for (Listener listener : listeners) {
                listener.start();
            }
        } catch (IOException e) {
            throw new StartException("cannot listen on " + binding + ": " + describe(e), e);
        }
    }

    /** Starts the console, if one is configured and installed; a console that cannot start stops the gateway. */
    private void startConsole() {
        if (config.console() == null) {
            return;
        }
        if (parts.console() == null) {
            log.info("no console plugin installed: the web console is off");
            return;
        }
        GatewayAdmin admin = new GatewayAdmin(new GatewayAdmin.Parts(config, context, services.stats(),
                services.shaping(), services.sessions(), services.allowances(), parts.store(), this::listeners,
                services.links(),
                services.localProxy(), reversePorts));
        try {
            ConsoleFactory factory = parts.console();
            console = PluginParts.configure(config, factory.name(), new TreeSet<>(),
                    c -> factory.start(c, admin, config.console().toSocketAddress()));
            components.add("console", console);
        } catch (java.io.UncheckedIOException e) {
            throw new StartException("cannot start the console on " + config.console() + ": "
                    + describe(e.getCause()), e);
        }
        updateOwnListeners();
    }

    /** Every listener, the console among them, is refused as a tunnel's destination on both roles. */
    private void updateOwnListeners() {
        Set<InetSocketAddress> own = new HashSet<>();
        listeners.forEach(l -> own.add(l.address()));
        if (console != null) {
            own.add(console.address());
        }
        services.dialer().ownListeners(own);
    }

    private void stopLoops() {
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

    // ---- what the CLI and the tests see ----

    /** {@return the console's address, or null when there is no console} */
    public InetSocketAddress consoleAddress() {
        ConsoleFactory.Console running = console;
        return running == null ? null : running.address();
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

    /** {@return the remote's live tunnels and idle links by user, or null on the local role} */
    public UserSessions sessions() {
        return services.sessions();
    }

    /** {@return the configuration in force: the one it started with, its live keys as last reloaded} */
    public GatewayConfig liveConfig() {
        return live;
    }

    /**
     * Applies a new configuration while running: the keys {@link ConfigReload#LIVE} names take effect for what starts
     * from now on (new connections, tunnels, dials, logins); every other key keeps its running value until a
     * restart. The caller has validated {@code next} (an invalid file changes nothing).
     *
     * @return what changed: applied, and waiting for a restart
     */
    public synchronized ConfigReload.Changes reload(GatewayConfig next) {
        ConfigReload.Changes changes = ConfigReload.compare(config, live, next);
        if (changes.restartOnly().contains("role")) {
            return changes;
        }
        if (remoteRole) {
            services.dialer().reconfigure(DestinationPolicy.restrictive(next.remoteRole().allowDestinations()),
                    next.timeouts().dns(), next.timeouts().connect());
        } else {
            services.dialer().reconfigure(DestinationPolicy.OPEN, next.timeouts().dns(), next.timeouts().connect());
            services.shaping().overallRate(next.local().rateLimit());
        }
        GatewayConfig.Limits caps = next.limits();
        services.limits().reconfigure(caps.maxConnections(), caps.maxHandshakesPerSource(), caps.maxLinksPerUser());
        services.damper().reconfigure(caps.authFailuresBeforeDelay(), caps.authFailuresBeforeRefusal());
        services.relay().timeouts().set(next.timeouts().handshake(), next.timeouts().idle(),
                next.timeouts().halfClosed());
        services.associations().reconfigure(next.udp().idle(), next.udp().maxPerUser(), next.udp().maxPerSource(),
                next.udp().maxPacketsPerSecond());
        if (changes.live().contains("logLevel")) {
            LogLevels.apply(next.logLevel());
        }
        live = next;
        return changes;
    }

    /** {@return the remote's users' caps, quotas and expiry; null on the local role} */
    public Allowances allowances() {
        return services.allowances();
    }

    /** {@return the gateway's counters} */
    /**
     * Checks, without starting anything, that every {@code plugins.<name>} section of {@code config} names one of
     * {@code plugins}. {@throws ConfigError} naming the file, line and the plugins found.
     */
    public static void checkPluginSections(GatewayConfig config, List<GatewayPlugin> plugins) {
        PluginParts.checkSections(config, plugins);
    }

    public GatewayStats stats() {
        return services.stats();
    }

    /** {@return the relay buffer pool, whose {@link BufferPool#inUse()} counts the buffers held, bulk ones too} */
    public BufferPool bufferPool() {
        return services.pool();
    }

    /** {@return the configuration it runs with} */
    public GatewayConfig config() {
        return config;
    }

    /** {@return the per-principal traffic and shaping} */
    public Shaping shaping() {
        return services.shaping();
    }

    // ---- stopping ----

    /**
     * Stops gracefully: stops accepting at once, lets open tunnels finish until {@code drain} has passed, then
     * closes the rest and stops. Idempotent.
     */
    public synchronized void shutdown(Duration drain) {
        if (stopped) {
            return;
        }
        if (services.localProxy() != null) {
            services.localProxy().close();
        }
        listeners.forEach(Listener::close);
        if (services.sessions() != null) {
            services.sessions().drainLinks();
        }
        int open = services.stats().openConnections();
        if (open > 0) {
            log.info("stopped accepting; draining {} connections for up to {} s", open, drain.toSeconds());
        }
        boolean drained;
        try {
            drained = services.limits().awaitNoConnections(drain.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        if (!drained) {
            log.info("drain deadline passed; closing {} connections", services.stats().openConnections());
        }
        close();
    }

    /** Stops at once: closes every part in the reverse of the order it was opened. Idempotent. */
    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        components.close();
        if (started) {
            log.info("gateway stopped");
        }
    }

    // ---- assembly ----

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
        private java.time.Clock clock = java.time.Clock.systemUTC();

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

        /** The wall clock that account expiry and quota periods follow (tests set the time). */
        public Builder clock(java.time.Clock wallClock) {
            this.clock = java.util.Objects.requireNonNull(wallClock, "clock");
            return this;
        }

        /** A resolver that replaces the configured one (tests use a fixed table). */
        public Builder resolver(Resolver resolver) {
            this.resolver = resolver;
            return this;
        }

        /**
         * Assembles the gateway, then starts it: binds its listeners and starts accepting.
         *
         * @throws ConfigError   for an invalid configuration (a plugin's section, a missing plugin)
         * @throws StartException for any other reason it cannot start (a port in use)
         */
        public Gateway start() {
            return new Gateway(this).start();
        }
    }

    private static String describe(IOException e) {
        if (e instanceof BindException) {
            return e.getMessage() == null ? "address in use" : e.getMessage();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static ThreadPoolExecutor newBlockingExecutor(GatewayConfig.Reactor reactor) {
        AtomicInteger counter = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(reactor.blockingThreads(), reactor.blockingThreads(),
                30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(reactor.blockingQueue()), r -> {
                    Thread t = new Thread(r, "relaygate-blocking-" + counter.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
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
