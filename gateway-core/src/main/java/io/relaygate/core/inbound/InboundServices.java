package io.relaygate.core.inbound;

import io.relaygate.core.outbound.Connector;
import io.relaygate.core.policy.Associations;
import io.relaygate.core.policy.AuthDamper;
import io.relaygate.core.policy.LiveTimeouts;
import io.relaygate.core.relay.RelayServices;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * What the client connections of one listener share. Immutable; every part is thread-safe.
 *
 * @param relay        what their relays share
 * @param protocols    the protocols the listener serves, tried in order on the first bytes
 * @param connector    where their tunnels go (directly, or over a link)
 * @param verifier     checks client passwords, or a disabled verifier when clients need none
 * @param damper       brute-force damping of failed logins
 * @param blocking     the bounded executor for password checks
 * @param timeouts     the absolute deadline of a client's handshake, read as each connection starts
 * @param udp          the listener's UDP associations, or null when it serves none
 */
public record InboundServices(RelayServices relay, List<Protocol> protocols, Connector connector,
                              PasswordVerifier verifier, AuthDamper damper, Executor blocking,
                              LiveTimeouts timeouts, Associations udp) {

    /** {@return how long a client connection starting now may take to finish its handshake} */
    public Duration handshake() {
        return timeouts.handshake();
    }

    public InboundServices {
        protocols = List.copyOf(protocols);
    }
}
