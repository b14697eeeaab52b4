package io.relaygate.core.config;

import io.relaygate.spi.AccountRules;
import io.relaygate.spi.ConfigException;
import io.relaygate.spi.GatewayContext.Role;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import io.relaygate.core.policy.DestinationPolicy;
import java.util.Locale;

/**
 * The gateway's validated, immutable configuration: what both roles share, and one role's own settings. Plugin
 * sections stay in {@link #settings()} and are validated by their plugins.
 *
 * @param listen         the mixed listener (local) or the link listener (remote)
 * @param console        the web console's address, or {@code null} when off
 * @param dataDir        account store, admin token, saved settings
 * @param pluginsDir     plugin directories and jars
 * @param allowOpenProxy whether a listener without authentication may bind a non-loopback address
 * @param accountStore   the name of the account store that authenticates clients, or {@code null} for none
 * @param resolver       the name of the resolver, {@code system} for the JDK's
 * @param rateLimiter    the name of the rate limiter, or {@code null} for none (user rates then unenforced)
 * @param passwordIterations PBKDF2 iterations for new credentials
 * @param timeouts       every timeout
 * @param limits         connection caps
 * @param reactor        event loops, buffers, blocking executor
 * @param udp            SOCKS5 UDP associations
 * @param roleConfig     the settings of the role it runs: a {@link LocalConfig} or a {@link RemoteConfig}
 * @param logLevel       the level of the gateway's own loggers ({@code io.relaygate}), lower case; or {@code null}
 *                       for the level logback.xml gives them
 * @param settings       the merged settings, for the plugin sections
 */
public record GatewayConfig(HostPort listen, HostPort console, Path dataDir, Path pluginsDir, boolean allowOpenProxy,
                            String accountStore, String resolver, String rateLimiter, int passwordIterations,
                            Timeouts timeouts, Limits limits, Reactor reactor, Udp udp, RoleConfig roleConfig,
                            String logLevel, Settings settings) {

    /** The values {@code logLevel} takes. */
    public static final List<String> LOG_LEVELS = List.of("off", "error", "warn", "info", "debug", "trace");

    /** One role's own settings. */
    public sealed interface RoleConfig permits LocalConfig, RemoteConfig {
    }

    /**
     * The local role's settings.
     *
     * @param remote       the remote gateway, or {@code null} for direct connections
     * @param user         the account on the remote, or {@code null} without a remote
     * @param passwordFile the file holding the link password, or {@code null} (GATEWAY_PASSWORD then)
     * @param linkPool     authenticated links each event loop keeps to the remote, new streams going on the least
     *                     loaded (at least 1)
     * @param rateLimit    bytes per second for the whole proxy over both directions, 0 for unlimited
     * @param linkTls      whether the link runs over TLS 1.3 ({@code linkTls.mode}); with a remote, one of the two
     *                     ways to trust it below is then set
     * @param remoteFingerprint the remote's link certificate, {@code sha256:<hex>}, or {@code first-use} (the first
     *                          one seen, recorded); {@code null} otherwise
     * @param remoteCa          a PEM file of certificate authorities: the remote's certificate chains to one of them
     * @param exposed           the services this local exposes on public ports of its remote (the reverse tunnel)
     *                          and names the remote's host; or {@code null}
     */
    public record LocalConfig(HostPort remote, String user, Path passwordFile, int linkPool, long rateLimit,
                              boolean linkTls, String remoteFingerprint, Path remoteCa,
                              List<ReverseConfig.Exposed> exposed) implements RoleConfig {
        public LocalConfig {
            exposed = List.copyOf(exposed);
        }
    }

    /**
     * The remote role's settings.
     *
     * @param directListen      the optional authenticated mixed listener for clients without a local gateway
     * @param allowDestinations what the destination policy lets through despite its default refusals
     * @param trustedProxies    load balancers whose connections must start with a PROXY protocol header (v1 or v2)
     *                          naming the client; from any other address such a header is refused
     * @param linkTls           whether the link listener speaks TLS 1.3
     * @param linkCertificate   the link certificate chain (PEM), or {@code null} for the one made in the data
     *                          directory
     * @param linkKey           its private key (PEM), with {@code linkCertificate}
     * @param reverse           the public port pool of the reverse tunnel (off while empty)
     */
    public record RemoteConfig(HostPort directListen, List<DestinationPolicy.Rule> allowDestinations,
                               List<DestinationPolicy.Rule> trustedProxies, boolean linkTls, Path linkCertificate, Path linkKey, ReverseConfig.Pool reverse)
            implements RoleConfig {
        public RemoteConfig {
            allowDestinations = List.copyOf(allowDestinations);
            trustedProxies = List.copyOf(trustedProxies);
        }
    }

    /** {@return local or remote} */
    public Role role() {
        return roleConfig instanceof RemoteConfig ? Role.REMOTE : Role.LOCAL;
    }

    /** {@return the local role's settings} @throws IllegalStateException on the remote role */
    public LocalConfig local() {
        if (roleConfig instanceof LocalConfig local) {
            return local;
        }
        throw new IllegalStateException("the local role's settings asked of a remote gateway");
    }

    /** {@return the remote role's settings} @throws IllegalStateException on the local role */
    public RemoteConfig remoteRole() {
        if (roleConfig instanceof RemoteConfig remote) {
            return remote;
        }
        throw new IllegalStateException("the remote role's settings asked of a local gateway");
    }

    /** The prefix of plugin sections. */
    public static final String PLUGINS = "plugins";

    /**
     * Timeouts; every one configurable so tests can use short values.
     *
     * @param idleLink remote: how long an authenticated link may stay up without opening a stream, pings or not
     */
    public record Timeouts(Duration handshake, Duration connect, Duration dns, Duration idle, Duration halfClosed,
                           Duration drain, Duration idleLink) {
    }

    /**
     * @param maxConnections         open client connections at once, across all listeners
     * @param maxHandshakesPerSource client connections still in their handshake, per source address
     * @param authFailuresBeforeDelay   failed logins per address per minute before answers come a second late
     *                                  (per user: twice as many); 0 turns damping off
     * @param authFailuresBeforeRefusal failed logins per address per minute before attempts are refused unchecked
     *                                  (never per user: see {@code AuthDamper})
     * @param maxLinksPerUser           remote: authenticated links one user may hold at once
     * @param maxStreamsPerLink         streams one link may carry at once, as this side advertises to its peer
     * @param streamWindow              bytes a peer may send on one stream before this side grants more: what a
     *                                  stream whose reader stalls holds at least here
     * @param streamWindowMax           the largest a stream's window grows to while its reader keeps up
     * @param linkWindowGrowth          what the windows of one link's streams may grow by together
     */
    public record Limits(int maxConnections, int maxHandshakesPerSource, int authFailuresBeforeDelay,
                         int authFailuresBeforeRefusal, int maxLinksPerUser, int maxStreamsPerLink,
                         int streamWindow, int streamWindowMax, long linkWindowGrowth) {
    }

    /**
     * SOCKS5 UDP ASSOCIATE.
     *
     * @param enabled         whether the mixed listener (local) or the direct listener (remote) serves it; a remote
     *                        always serves its locals' datagram streams
     * @param idle            an association with no datagram either way for this long is closed
     * @param maxPerUser      associations one user may hold at once
     * @param maxPerSource    associations one client address may hold at once
     * @param maxPacketsPerSecond datagrams one association may pass a second, both directions together
     */
    public record Udp(boolean enabled, Duration idle, int maxPerUser, int maxPerSource, int maxPacketsPerSecond) {
    }

    /**
     * @param eventLoops       event-loop threads
     * @param bufferSize       bytes of one relay buffer; a tunnel holds at most one per direction
     * @param maxPooledBuffers free buffers kept for reuse
     * @param bulkBufferSize   bytes of one bulk buffer, which a direction whose source keeps more than a relay
     *                         buffer waiting reads into instead (fewer system calls and wake-ups per byte)
     * @param bulkBuffers      bulk buffers lent at once, all tunnels together; 0 for none
     * @param blockingThreads  threads of the blocking executor (DNS, JDBC, key derivation)
     * @param blockingQueue    tasks that may wait for those threads before new ones are refused
     */
    public record Reactor(int eventLoops, int bufferSize, int maxPooledBuffers, int bulkBufferSize, int bulkBuffers,
                          int blockingThreads, int blockingQueue) {
    }

    /**
     * Validates settings into a configuration.
     *
     * @param home where relative default directories live (the installation directory)
     * @throws ConfigError naming the origin, the key and the expectation of the first invalid value
     */
    public static GatewayConfig from(Settings settings, Path home) {
        try {
            return read(settings, home);
        } catch (ConfigException e) {
            throw ConfigError.of(e, settings);
        }
    }

    private static GatewayConfig read(Settings settings, Path home) {
        SectionConfig c = new SectionConfig(settings, "").excluding(PLUGINS + ".");
        Role role = switch (c.getString("role", "local").toLowerCase(Locale.ROOT)) {
            case "local" -> Role.LOCAL;
            case "remote" -> Role.REMOTE;
            default -> throw new ConfigException("role", "\"" + c.getString("role", "") + "\" (expected: local or remote)");
        };
        HostPort listen = hostPort(c, "listen", role == Role.LOCAL ? "127.0.0.1:1080" : "0.0.0.0:7080");
        HostPort remote = hostPort(c, "remote", null);
        if (remote != null && remote.port() == 0) {
            throw new ConfigException("remote", "\"" + remote + "\" (expected: HOST:PORT with a port from 1 to 65535)");
        }
        String user = c.getString("user", null);
        String passwordFileText = c.getString("passwordFile", null);
        Path passwordFile = passwordFileText == null ? null : home.resolve(passwordFileText);
        HostPort directListen = hostPort(c, "directListen", null);
        int linkPool = (int) c.getLong("linkPool", 2, 1, 64);
        String remoteFingerprint = c.getString("remoteFingerprint", null);
        if (remoteFingerprint != null) {
            remoteFingerprint = remoteFingerprint.toLowerCase(Locale.ROOT);
            if (!remoteFingerprint.matches("sha256:[0-9a-f]{64}") && !remoteFingerprint.equals("first-use")) {
                throw new ConfigException("remoteFingerprint", "\"" + remoteFingerprint + "\" (expected: sha256:"
                        + " and 64 hex digits, as `gateway link fingerprint` prints on the remote, or first-use)");
            }
            if (role != Role.LOCAL || remote == null) {
                throw new ConfigException("remoteFingerprint", "only for a local with --remote");
            }
        }
        String remoteCaText = c.getString("remoteCa", null);
        if (remoteCaText != null && (role != Role.LOCAL || remote == null || remoteFingerprint != null)) {
            throw new ConfigException("remoteCa", remoteFingerprint != null
                    ? "with remoteFingerprint (expected: one way to trust the remote, not both)"
                    : "only for a local with --remote");
        }
        String modeText = c.getString("linkTls.mode", "on");
        boolean linkTls = switch (modeText.toLowerCase(Locale.ROOT)) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new ConfigException("linkTls.mode", "\"" + modeText + "\" (expected: on or off)");
        };
        if (role == Role.LOCAL && remote != null) {
            if (linkTls && remoteFingerprint == null && remoteCaText == null) {
                throw new ConfigException("remoteFingerprint", "missing (expected: how to trust the remote's link"
                        + " certificate: --remote-fingerprint=sha256:HEX as the remote prints at start in its `link"
                        + " fingerprint` line and `gateway link fingerprint` shows on it, --remote-fingerprint=first-use,"
                        + " or --remote-ca=FILE)");
            }
            if (!linkTls && (remoteFingerprint != null || remoteCaText != null)) {
                throw new ConfigException(remoteFingerprint != null ? "remoteFingerprint" : "remoteCa",
                        "with linkTls.mode: off (expected: TLS on to verify the remote, or neither)");
            }
        }
        String certificateText = c.getString("linkTls.certificate", null);
        String keyText = c.getString("linkTls.key", null);
        if ((certificateText == null) != (keyText == null)) {
            throw new ConfigException(certificateText == null ? "linkTls.certificate" : "linkTls.key",
                    "missing (expected: linkTls.certificate and linkTls.key together, PEM files)");
        }
        if (certificateText != null && (role != Role.REMOTE || !linkTls)) {
            throw new ConfigException("linkTls.certificate", "only for a remote with linkTls.mode: on");
        }
        List<DestinationPolicy.Rule> allowDestinations = rules(c, "allowDestination");
        List<DestinationPolicy.Rule> trustedProxies = rules(c, "trustedProxies");
        if (role == Role.LOCAL && !trustedProxies.isEmpty()) {
            throw new ConfigException("trustedProxies", "only for the remote role (expected: the load balancers in"
                    + " front of remote gateways)");
        }
        if (role == Role.LOCAL && remote != null && user == null) {
            throw new ConfigException("user", "missing (expected: the account on the remote gateway, with --remote)");
        }
        String consoleText = c.getString("console", role == Role.LOCAL ? "127.0.0.1:8081" : "127.0.0.1:8080");
        HostPort console = "off".equalsIgnoreCase(consoleText) ? null : hostPort(c, "console", consoleText);
        Path dataDir = home.resolve(c.getString("dataDir", "data"));
        Path pluginsDir = home.resolve(c.getString("pluginsDir", "plugins"));
        boolean allowOpenProxy = c.getBoolean("allowOpenProxy", false);
        // The remote authenticates every link: it always has a store, SQLite unless configured otherwise.
        String accountStore = c.getString("accountStore", role == Role.REMOTE ? "sqlite" : "none");
        String resolver = c.getString("resolver", "system");
        String rateLimiter = c.getString("rateLimiter", "tokenBucket");
        long rateLimit;
        try {
            rateLimit = AccountRules.parseRate(c.getString("rateLimit", "0"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("rateLimit", "\"" + c.getString("rateLimit", "0") + "\" (expected: bytes per"
                    + " second such as 1500, 512KiB or 4MiB/s; 0 for unlimited)");
        }
        if (role == Role.REMOTE && rateLimit != 0) {
            throw new ConfigException("rateLimit", "only for the local role (expected: per-user rates on the remote,"
                    + " set with `gateway user set NAME --rate`)");
        }
        // OWASP's 2023 guidance for PBKDF2-HMAC-SHA-256.
        int iterations = (int) c.getLong("passwordIterations", 600_000, 1, 100_000_000);

        Duration ms1 = Duration.ofMillis(1);
        Duration day = Duration.ofDays(1);
        Timeouts timeouts = new Timeouts(
                c.getDuration("timeouts.handshake", Duration.ofSeconds(10), ms1, Duration.ofMinutes(10)),
                c.getDuration("timeouts.connect", Duration.ofSeconds(10), ms1, Duration.ofMinutes(10)),
                c.getDuration("timeouts.dns", Duration.ofSeconds(5), ms1, Duration.ofMinutes(10)),
                c.getDuration("timeouts.idle", Duration.ofMinutes(15), ms1, day),
                c.getDuration("timeouts.halfClosed", Duration.ofSeconds(60), ms1, day),
                c.getDuration("timeouts.drain", Duration.ofSeconds(30), Duration.ZERO, Duration.ofHours(1)),
                c.getDuration("timeouts.idleLink", Duration.ofMinutes(10), ms1, day));
        Limits limits = new Limits(
                (int) c.getLong("limits.maxConnections", defaultMaxConnections(), 1, 1_000_000),
                // A local proxy's clients are this machine's applications, all from one address: a browser's
                // burst of new connections must fit. Remote-facing listeners keep RELIABILITY.md's 32.
                (int) c.getLong("limits.maxHandshakesPerSource", role == Role.LOCAL ? 256 : 32, 1, 1_000_000),
                (int) c.getLong("limits.authFailuresBeforeDelay", 5, 0, 1_000_000),
                (int) c.getLong("limits.authFailuresBeforeRefusal", 20, 1, 1_000_000),
                // Several locals of one user, each with linkPool links per event loop, fit with room to spare.
                (int) c.getLong("limits.maxLinksPerUser", 64, 1, 1_000_000),
                (int) c.getLong("limits.maxStreamsPerLink", 1024, 1, 1 << 20),
                (int) c.getSize("limits.streamWindow", 256 * 1024, 16 * 1024, 1 << 30),
                (int) c.getSize("limits.streamWindowMax", 4 << 20, 16 * 1024, 1 << 30),
                c.getSize("limits.linkWindowGrowth", 16 << 20, 0, 1L << 40));
        if (limits.streamWindowMax() < limits.streamWindow()) {
            throw new ConfigException("limits.streamWindowMax", limits.streamWindowMax() + " bytes (expected: at"
                    + " least limits.streamWindow, " + limits.streamWindow() + " bytes)");
        }
        int cores = Runtime.getRuntime().availableProcessors();
        int loops = (int) c.getLong("reactor.eventLoops", 0, 0, 256);
        Reactor reactor = new Reactor(loops == 0 ? cores : loops,
                (int) c.getSize("reactor.bufferSize", 64 * 1024, 1024, 16 << 20),
                (int) c.getLong("reactor.maxPooledBuffers", 1024, 0, 1_000_000),
                (int) c.getSize("reactor.bulkBufferSize", 256 * 1024, 1024, 16 << 20),
                (int) c.getLong("reactor.bulkBuffers", 64, 0, 100_000),
                (int) c.getLong("reactor.blockingThreads", 16, 1, 1024),
                (int) c.getLong("reactor.blockingQueue", 1024, 1, 1_000_000));
        if (reactor.bulkBufferSize() < reactor.bufferSize()) {
            throw new ConfigException("reactor.bulkBufferSize", reactor.bulkBufferSize() + " bytes (expected: at"
                    + " least reactor.bufferSize, " + reactor.bufferSize() + " bytes)");
        }
        Udp udp = new Udp(c.getBoolean("udp.enabled", role == Role.LOCAL),
                c.getDuration("udp.idle", Duration.ofMinutes(2), ms1, day),
                (int) c.getLong("udp.maxAssociationsPerUser", 64, 1, 1_000_000),
                (int) c.getLong("udp.maxAssociationsPerSource", 64, 1, 1_000_000),
                (int) c.getLong("udp.maxPacketsPerSecond", 100_000, 1, 10_000_000));
        List<ReverseConfig.Exposed> exposed = ReverseConfig.exposed(c, settings, role, remote);
        ReverseConfig.Pool reverse = ReverseConfig.pool(c, role);
        String logLevel = c.getString("logLevel", null);
        if (logLevel != null && !LOG_LEVELS.contains(logLevel.toLowerCase(Locale.ROOT))) {
            throw new ConfigException("logLevel", "\"" + logLevel + "\" (expected: one of " + String.join(", ",
                    LOG_LEVELS) + ")");
        }
        c.requireAllConsumed();
        RoleConfig roleConfig = role == Role.LOCAL
                ? new LocalConfig(remote, user, passwordFile, linkPool, rateLimit, linkTls, remoteFingerprint,
                        remoteCaText == null ? null : home.resolve(remoteCaText), exposed)
                : new RemoteConfig(directListen, allowDestinations, trustedProxies, linkTls,
                        certificateText == null ? null : home.resolve(certificateText),
                        keyText == null ? null : home.resolve(keyText), reverse);
        return new GatewayConfig(listen, console, dataDir, pluginsDir, allowOpenProxy,
                "none".equals(accountStore) ? null : accountStore, resolver,
                "none".equals(rateLimiter) ? null : rateLimiter, iterations, timeouts, limits, reactor, udp, roleConfig,
                logLevel == null ? null : logLevel.toLowerCase(Locale.ROOT), settings);
    }

    /** A list of {@code CIDR[:PORTS]}, comma-separated or a YAML list. */
    private static List<DestinationPolicy.Rule> rules(SectionConfig c, String key) {
        List<DestinationPolicy.Rule> rules = new ArrayList<>();
        for (String entry : c.getString(key, "").split(",")) {
            if (!entry.isBlank()) {
                try {
                    rules.add(DestinationPolicy.Rule.parse(entry.trim()));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(key, e.getMessage());
                }
            }
        }
        return rules;
    }

    private static HostPort hostPort(SectionConfig c, String key, String defaultValue) {
        String text = c.getString(key, defaultValue);
        if (text == null) {
            return null;
        }
        HostPort parsed = HostPort.parse(text);
        if (parsed == null) {
            throw new ConfigException(key, "\"" + text + "\" (expected: HOST:PORT, IPv6 in brackets, port 0-65535)");
        }
        return parsed;
    }

    /**
     * min(8192, (fd limit - 1024) / 2): each tunnel costs two file descriptors, and the rest of the process needs
     * some too.
     */
    static long defaultMaxConnections() {
        long fdLimit = fdLimit();
        return Math.max(64, Math.min(8192, (fdLimit - 1024) / 2));
    }

    /** {@return this process's open-file limit, or 20,000 where the JVM cannot tell} */
    public static long fdLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            return os.getMaxFileDescriptorCount();
        }
        return 20_000;
    }
}
