package io.relaygate.core;

import io.relaygate.core.config.HostPort;
import io.relaygate.core.stats.GatewayStats;
import io.relaygate.core.tunnel.Listener;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.accounts.UserSessions;
import io.relaygate.spi.AccountRules;
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

/** The console's view of one gateway. Thread-safe. */
final class GatewayAdmin implements AdminApi {

    private final Gateway gateway;
    private final SecureRandom random = new SecureRandom();
    private final ProxyControl proxy;

    GatewayAdmin(Gateway gateway) {
        this.gateway = gateway;
        this.proxy = gateway.config().role() == GatewayContext.Role.LOCAL ? new LocalProxy() : null;
    }

    @Override
    public GatewayContext context() {
        return gateway.context();
    }

    @Override
    public Snapshot snapshot() {
        GatewayStats stats = gateway.stats();
        UserSessions sessions = gateway.sessions();
        List<Principal> principals = new ArrayList<>();
        for (Shaping.Meter meter : gateway.shaping().meters().values()) {
            int tunnels = sessions == null ? stats.openTunnels() : sessions.tunnels(meter.principal());
            int links = sessions == null ? 0 : sessions.links(meter.principal());
            principals.add(new Principal(meter.principal(), meter.rate(), meter.bytesUp(), meter.bytesDown(),
                    meter.parkedNanos(), meter.shapedBytes(), tunnels, links));
        }
        Map<String, InetSocketAddress> listeners = new LinkedHashMap<>();
        for (Listener listener : gateway.listeners()) {
            listeners.put(listener.name(), listener.address());
        }
        return new Snapshot(stats.bytesUp(), stats.bytesDown(), stats.openConnections(), stats.acceptedConnections(),
                stats.openTunnels(), stats.totalTunnels(), stats.handshakeFailures(), stats.tunnelFailures(),
                List.copyOf(principals), Map.copyOf(listeners));
    }

    @Override
    public java.util.Optional<AccountStore> accounts() {
        return java.util.Optional.ofNullable(gateway.accountStore());
    }

    @Override
    public ScramCredential credential(byte[] password) {
        return ScramCredential.create(AccountRules.checkPassword(password), gateway.config().passwordIterations(),
                random);
    }

    @Override
    public java.util.Optional<ProxyControl> proxy() {
        return java.util.Optional.ofNullable(proxy);
    }

    private final class LocalProxy implements ProxyControl {
        @Override
        public boolean running() {
            return gateway.proxyRunning();
        }

        @Override
        public void start() throws IOException {
            gateway.startProxy();
        }

        @Override
        public void stop() {
            gateway.stopProxy();
        }

        @Override
        public ProxySettings settings() {
            return gateway.links().settings();
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
                gateway.links().apply(remote, user, password);
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
