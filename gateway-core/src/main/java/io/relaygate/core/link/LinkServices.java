package io.relaygate.core.link;

import io.relaygate.core.config.GatewayConfig.Timeouts;
import io.relaygate.core.outbound.Dialer;
import io.relaygate.core.policy.AuthDamper;
import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.tls.LinkTls;
import io.relaygate.core.wire.ScramServer;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * What the remote's link connections share. Immutable; every part is thread-safe.
 *
 * @param relay    what the relays of their streams share; its {@code sessions} must not be null
 * @param dialer   dials the destinations of their streams, under the remote's destination policy
 * @param scram    a fresh SCRAM server exchange per connection
 * @param damper   brute-force damping of failed logins
 * @param limits   the caps, among them links per user
 * @param timeouts the handshake deadline and the idle-link time
 * @param blocking the bounded executor for account lookups and TLS handshake tasks
 * @param tls      the link's TLS, or null for a plaintext link
 * @param maxStreamsPerLink the streams one link may hold open at once, as the remote advertises it
 * @param streamWindows     the bytes a local may send on a stream before the remote grants more
 * @param reverse           the public ports of the reverse tunnel, or null when the remote has no pool
 * @param associations      the caps and idle time of the locals' datagram streams (UDP associations)
 */
public record LinkServices(RelayServices relay, Dialer dialer, Supplier<ScramServer> scram, AuthDamper damper,
                           ConnectionLimits limits, Timeouts timeouts, Executor blocking, LinkTls tls,
                           int maxStreamsPerLink, StreamWindows streamWindows, ReversePorts reverse,
                           io.relaygate.core.policy.Associations associations) {

    public LinkServices {
        if (relay.sessions() == null) {
            throw new IllegalArgumentException("the remote's links need its user sessions");
        }
    }
}
