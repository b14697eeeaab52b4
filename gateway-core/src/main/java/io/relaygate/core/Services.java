package io.relaygate.core;

import io.relaygate.core.accounts.Allowances;
import io.relaygate.core.accounts.UserSessions;
import io.relaygate.core.admin.LocalLinks;
import io.relaygate.core.admin.LocalProxy;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.inbound.InboundConnection;
import io.relaygate.core.inbound.InboundServices;
import io.relaygate.core.inbound.PasswordVerifier;
import io.relaygate.core.link.ExposedServices;
import io.relaygate.core.net.Listener;
import io.relaygate.core.outbound.Connector;
import io.relaygate.core.outbound.Dialer;
import io.relaygate.core.policy.Associations;
import io.relaygate.core.policy.AuthDamper;
import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.policy.DestinationPolicy;
import io.relaygate.core.policy.LiveTimeouts;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.core.stats.GatewayStats;
import io.relaygate.spi.GatewayContext;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * What one gateway's connections share, assembled from its configuration and its plugins' parts before anything
 * runs: no thread, no socket. Immutable; every part is thread-safe.
 *
 * @param sessions   the remote's users while it runs; null on the local role
 * @param allowances the remote's users' caps, quotas and expiry; null on the local role
 * @param associations the UDP associations' caps and settings
 * @param links      the local's link settings; null on the remote role
 * @param localProxy the local's client listener; null on the remote role
 */
record Services(GatewayStats stats, ConnectionLimits limits, AuthDamper damper, BufferPool pool, Dialer dialer,
                Shaping shaping, UserSessions sessions, Allowances allowances, RelayServices relay, InboundServices inbound,
                Associations associations, LocalLinks links, LocalProxy localProxy) {

    /**
     * @param loops     the event loops, filled in when the gateway starts
     * @param listeners the gateway's listeners, shared with the local proxy
     * @param clock     the wall clock of account expiry and quota periods
     */
    static Services assemble(GatewayConfig config, PluginParts parts, Executor blocking, byte[] linkPassword,
                             List<EventLoop> loops, List<Listener> listeners, Clock clock) {
        boolean remote = config.role() == GatewayContext.Role.REMOTE;
        GatewayStats stats = new GatewayStats();
        GatewayConfig.Limits caps = config.limits();
        ConnectionLimits limits = new ConnectionLimits(caps.maxConnections(), caps.maxHandshakesPerSource(),
                caps.maxLinksPerUser(), stats);
        if (remote) {
            limits.trustProxies(config.remoteRole().trustedProxies());
        }
        AuthDamper damper = new AuthDamper(caps.authFailuresBeforeDelay(), caps.authFailuresBeforeRefusal());
        BufferPool pool = new BufferPool(config.reactor().bufferSize(), config.reactor().maxPooledBuffers(),
                BufferPool.bounded(config.reactor().bulkBufferSize(), config.reactor().bulkBuffers()));
        GatewayConfig.Timeouts timeouts = config.timeouts();
        Dialer dialer = new Dialer(parts.resolver(), blocking, timeouts.dns(), timeouts.connect(),
                remote ? DestinationPolicy.restrictive(config.remoteRole().allowDestinations())
                        : DestinationPolicy.OPEN);
        Connector direct = Connector.direct(dialer);
        UserSessions sessions = remote ? new UserSessions() : null;
        Shaping shaping = remote ? Shaping.perUser(parts.limiter())
                : parts.limiter() != null ? Shaping.overall(parts.limiter(), config.local().rateLimit())
                : Shaping.none();
        Allowances allowances = remote ? new Allowances(parts.store(), sessions, shaping, clock) : null;
        LiveTimeouts live = new LiveTimeouts(timeouts.handshake(), timeouts.idle(), timeouts.halfClosed());
        RelayServices relay = new RelayServices(pool, stats, shaping, sessions, allowances, live);
        // The exposed services' targets are this machine's own services: the local's open policy reaches them.
        ExposedServices exposed = remote || config.local().exposed().isEmpty() ? null
                : new ExposedServices(config.local().exposed(), config.local().remote().host(), dialer, relay);
        LocalLinks links = remote ? null : new LocalLinks(config, new Dialer(parts.resolver(), blocking,
                timeouts.dns(), timeouts.connect()), blocking, pool, direct, linkPassword, exposed);
        // One count for the client listener's associations and (remote) the locals' datagram streams.
        Associations associations = new Associations(config.udp().idle(), config.udp().maxPerUser(),
                config.udp().maxPerSource(), config.udp().maxPacketsPerSecond());
        InboundServices inbound = new InboundServices(relay, parts.protocols(),
                links != null ? links.connector() : direct, passwordVerifier(parts, allowances, clock),
                damper, blocking, live, config.udp().enabled() ? associations : null);
        LocalProxy localProxy = remote ? null : new LocalProxy(config.listen().toSocketAddress(), loops, limits,
                stats, InboundConnection.factory(inbound, parts.store() != null), listeners);
        return new Services(stats, limits, damper, pool, dialer, shaping, sessions, allowances, relay, inbound,
                associations, links, localProxy);
    }

    /** On the remote the allowances follow each login; a local's own store only refuses disabled and expired users. */
    private static PasswordVerifier passwordVerifier(PluginParts parts, Allowances allowances, Clock clock) {
        if (parts.store() == null) {
            return new PasswordVerifier(null, a -> null, a -> { });
        }
        if (allowances != null) {
            return new PasswordVerifier(allowances::lookUp, allowances::loginRefusal, allowances::loggedIn);
        }
        return new PasswordVerifier(parts.store()::find, a -> Allowances.loginRefusal(a, clock.instant()), a -> { });
    }
}
