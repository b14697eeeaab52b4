package io.relaygate.core.admin;

import io.relaygate.core.config.HostPort;
import io.relaygate.core.stats.GatewayStats;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.link.ExposedServices;
import io.relaygate.core.link.ReversePorts;
import io.relaygate.core.net.Listener;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.accounts.Allowances;
import io.relaygate.core.accounts.UserSessions;
import io.relaygate.spi.AccountRules;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AdminApi;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.ScramCredential;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The console's view of one gateway, over the parts it reads and controls. Thread-safe. */
public final class GatewayAdmin implements AdminApi {

    /**
     * What the console sees of a running gateway.
     *
     * @param sessions   the remote's users while it runs, or null on the local role
     * @param store      the account store, or null without one
     * @param listeners  the listeners open now
     * @param links      the local's link settings, or null on the remote role
     * @param localProxy the local's client listener, or null on the remote role
     */
    public record Parts(GatewayConfig config, GatewayContext context, GatewayStats stats, Shaping shaping,
                        UserSessions sessions, Allowances allowances, AccountStore store, Supplier<List<Listener>> listeners,
                        LocalLinks links, LocalProxy localProxy, ReversePorts reverse) {
    }

    private final Parts parts;
    private final SecureRandom random = new SecureRandom();
    private final ProxyControl proxy;

    public GatewayAdmin(Parts parts) {
        this.parts = parts;
        this.proxy = parts.localProxy() != null ? new LocalProxyControl() : null;
    }

    @Override
    public GatewayContext context() {
        return parts.context();
    }

    @Override
    public List<Tunnel> tunnels() {
        if (parts.reverse() != null) {
            return parts.reverse().snapshot().stream().map(t -> new Tunnel(t.user(), t.name(), null, t.port(),
                    t.state(), t.state().equals("held") ? "its local is away" : null, t.visitors(), t.visits(),
                    t.bytesUp(), t.bytesDown())).toList();
        }
        ExposedServices exposed = parts.links() == null ? null : parts.links().exposed();
        if (exposed == null) {
            return List.of();
        }
        String user = parts.config().local().user();
        return exposed.snapshot().stream().map(t -> new Tunnel(user, t.name(), t.target(), t.publicPort(),
                t.state(), t.reason(), t.visitors(), t.visits(), t.bytesUp(), t.bytesDown())).toList();
    }

    @Override
    public boolean closeTunnel(String user, String name) {
        return parts.reverse() != null && parts.reverse().close(user, name);
    }

    @Override
    public Snapshot snapshot() {
        GatewayStats stats = parts.stats();
        UserSessions sessions = parts.sessions();
        List<Principal> principals = new ArrayList<>();
        for (Shaping.Meter meter : parts.shaping().meters().values()) {
            int tunnels = sessions == null ? stats.openTunnels() : sessions.tunnels(meter.principal());
            int links = sessions == null ? 0 : sessions.links(meter.principal());
            AccountLimits limits = parts.allowances() == null ? null : parts.allowances().limits(meter.principal());
            long quota = limits == null ? 0 : limits.quota().bytes();
            long used = quota == 0 ? -1 : parts.allowances().quotaUsed(meter.principal());
            principals.add(new Principal(meter.principal(), meter.rate(), meter.bytesUp(), meter.bytesDown(),
                    meter.parkedNanos(), meter.shapedBytes(), tunnels, links, quota, used));
        }
        Map<String, InetSocketAddress> listeners = new LinkedHashMap<>();
        for (Listener listener : parts.listeners().get()) {
            listeners.put(listener.name(), listener.address());
        }
        return new Snapshot(stats.bytesUp(), stats.bytesDown(), stats.openConnections(), stats.acceptedConnections(),
                stats.openTunnels(), stats.totalTunnels(), stats.handshakeFailures(), stats.tunnelFailures(),
                List.copyOf(principals), Map.copyOf(listeners), new AdminApi.Udp(stats.openAssociations(),
                        stats.datagramsUp(), stats.datagramsDown(), stats.datagramsDropped()));
    }

    @Override
    public java.util.Optional<AccountStore> accounts() {
        return java.util.Optional.ofNullable(parts.store());
    }

    @Override
    public ScramCredential credential(byte[] password) {
        return ScramCredential.create(AccountRules.checkPassword(password), parts.config().passwordIterations(),
                random);
    }

    @Override
    public java.util.Optional<ProxyControl> proxy() {
        return java.util.Optional.ofNullable(proxy);
    }

    private final class LocalProxyControl implements ProxyControl {
        @Override
        public boolean running() {
            return parts.localProxy().running();
        }

        @Override
        public void start() throws IOException {
            parts.localProxy().start();
        }

        @Override
        public void stop() {
            parts.localProxy().stop();
        }

        @Override
        public ProxySettings settings() {
            return parts.links().settings();
        }

        @Override
        public LinkStatus link() {
            var health = parts.links().health();
            return health == null ? null : new LinkStatus(health.state(), health.links(), health.streams(),
                    health.roundTripNanos() < 0 ? -1 : health.roundTripNanos() / 1000, health.lastProblem(),
                    health.lastProblemAt(), health.refusedOpens());
        }

        @Override
        public void apply(ProxySettings settings, byte[] password) throws IOException {
            try {
                HostPort remote = null;
                String user = null;
                if (settings.remoteHost() != null && !settings.remoteHost().isBlank()) {
                    if (settings.remotePort() < 1 || settings.remotePort() > 65535) {
                        throw new IllegalArgumentException("remotePort: expected 1 to 65535");
                    }
                    remote = HostPort.parse(hostPort(settings.remoteHost().trim(), settings.remotePort()));
                    try {
                        if (remote == null) {
                            throw new IllegalArgumentException();
                        }
                        io.relaygate.spi.Destination.parse(remote.host(), remote.port());
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("remoteHost: expected a host name or an IP address");
                    }
                    user = AccountRules.checkName(settings.user());
                    if (password != null) {
                        AccountRules.checkPassword(password);
                    }
                }
                String fingerprint = settings.remoteFingerprint() == null || settings.remoteFingerprint().isBlank()
                        ? null : settings.remoteFingerprint().trim();
                parts.links().apply(remote, user, password, fingerprint);
            } finally {
                if (password != null) {
                    java.util.Arrays.fill(password, (byte) 0);
                }
            }
        }

        private static String hostPort(String host, int port) {
            return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
