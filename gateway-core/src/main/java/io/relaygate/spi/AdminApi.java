package io.relaygate.spi;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a console may see and do in a running gateway. Thread-safe; every method returns at once except where it
 * says it blocks (call those off any event loop, e.g. on a request thread).
 */
public interface AdminApi {

    /** {@return the gateway's role, data directory and blocking executor} */
    GatewayContext context();

    /** {@return the counters now; cheap, meant to be polled about once a second} */
    Snapshot snapshot();

    /** {@return the account store; empty when the gateway has none (a local proxy without client logins)} */
    Optional<AccountStore> accounts();

    /** {@return a new SCRAM credential for {@code password} at the configured iteration count; blocking (PBKDF2)} */
    ScramCredential credential(byte[] password);

    /** {@return the local proxy's controls; empty on the remote role} */
    Optional<ProxyControl> proxy();

    /** {@return the exposed services of the reverse tunnel: on a remote every user's, on a local its own} */
    default List<Tunnel> tunnels() {
        return List.of();
    }

    /**
     * Closes one user's exposed service on a remote: its public port stops listening, its visitors are closed, its
     * local is told. Any thread.
     *
     * @return whether there was such a service (always false on a local)
     */
    default boolean closeTunnel(String user, String name) {
        return false;
    }

    /**
     * One exposed service.
     *
     * @param user       its user (on a local, the account it logs in as)
     * @param target     where the local connects for a visitor (on a remote, null: only the local knows)
     * @param publicPort the remote's port while it has one, else 0
     * @param state      remote: {@code active} or {@code held} (its local is away, the port reserved); local:
     *                   {@code registering}, {@code exposed}, {@code refused} or {@code away}
     * @param reason     why it is not exposed, or null
     * @param visitors   visitors connected now
     * @param visits     visitors served since start
     * @param bytesUp    bytes from visitors so far
     * @param bytesDown  bytes to visitors so far
     */
    record Tunnel(String user, String name, String target, int publicPort, String state, String reason, int visitors,
                  long visits, long bytesUp, long bytesDown) {
    }

    /**
     * The gateway's counters at one moment.
     *
     * @param bytesUp            bytes from clients to destinations since start
     * @param bytesDown          bytes from destinations to clients since start
     * @param openConnections    client connections open now
     * @param totalConnections   client connections accepted since start
     * @param openTunnels        tunnels relaying now
     * @param totalTunnels       tunnels that reached the relay since start
     * @param handshakeFailures  failed handshakes by reason (authentication failures among them)
     * @param tunnelFailures     failed tunnel setups by outcome
     * @param principals         per user (remote) or for the whole proxy (local with a rate limit)
     * @param listeners          the bound listeners by name, e.g. {@code mixed}, {@code link}
     * @param udp                UDP associations and their datagrams
     */
    record Snapshot(long bytesUp, long bytesDown, int openConnections, long totalConnections, int openTunnels,
                    long totalTunnels, Map<String, Long> handshakeFailures, Map<String, Long> tunnelFailures,
                    List<Principal> principals, Map<String, InetSocketAddress> listeners, Udp udp) {
    }

    /**
     * UDP associations (SOCKS5 UDP ASSOCIATE, and on the remote its locals' datagram streams).
     *
     * @param openAssociations associations open now
     * @param datagramsUp      datagrams relayed from clients since start
     * @param datagramsDown    datagrams relayed to clients since start
     * @param dropped          datagrams dropped, by reason (a bounded set of fixed words)
     */
    record Udp(int openAssociations, long datagramsUp, long datagramsDown, Map<String, Long> dropped) {
    }

    /**
     * One principal's traffic and shaping.
     *
     * @param name        the user
     * @param rate        the rate shaping it now in bytes per second, 0 when unlimited
     * @param bytesUp     since start
     * @param bytesDown   since start
     * @param parkedNanos time its tunnel directions spent waiting for tokens, summed
     * @param shapedBytes bytes that waited for tokens
     * @param tunnels     its live tunnels
     * @param links       its authenticated links that carry no tunnel yet (the remote role; a local's warm pool)
     * @param quotaBytes  the user's traffic quota per period, 0 when none
     * @param quotaUsed   bytes both ways used in the current period as this gateway knows them (persisted plus its
     *                    own not yet persisted), -1 when there is no quota or it is not known yet
     */
    record Principal(String name, long rate, long bytesUp, long bytesDown, long parkedNanos, long shapedBytes,
                     int tunnels, int links, long quotaBytes, long quotaUsed) {
    }

    /** The local role's proxy listener and link settings, changed while it runs. */
    interface ProxyControl {

        /** {@return whether the client listener is open} */
        boolean running();

        /** Opens the client listener again, on the address it had. Idempotent. @throws IOException if it cannot bind */
        void start() throws IOException;

        /** Closes the client listener; live tunnels go on. Idempotent. */
        void stop();

        /** {@return the link settings now (never the password)} */
        ProxySettings settings();

        /** {@return the link to the remote now, or null while tunnels go directly} */
        LinkStatus link();

        /**
         * Applies new link settings to new tunnels at once and saves them for the next start (to
         * {@code <data-dir>/console-settings.yaml}, mode 0600, password included). Blocking (file I/O).
         *
         * @param password the new link password, or null to keep the current one; wiped after use
         * @throws IllegalArgumentException naming the invalid field
         * @throws IOException if the settings cannot be saved (nothing is applied then)
         */
        void apply(ProxySettings settings, byte[] password) throws IOException;
    }

    /**
     * Where the local proxy sends its tunnels.
     *
     * @param remoteHost  the remote gateway's host, or null for direct connections
     * @param remotePort  its link port (1-65535; ignored without a host)
     * @param user        the account on the remote, or null without a remote
     * @param passwordSet whether a link password is known (reported, never the password)
     * @param remoteFingerprint how the remote's link certificate is trusted: {@code sha256:<hex>} pinned,
     *                          {@code first-use}, or null (a CA file from the configuration, or a plaintext link);
     *                          null in an {@code apply} keeps the current one
     */
    /**
     * The local's links to its remote.
     *
     * @param state           {@code connected} (a link is up), {@code connecting}, or {@code failing} (none is up
     *                        and the last attempt failed)
     * @param links           authenticated links up
     * @param streams         tunnels they carry or are opening
     * @param roundTripMicros the shortest round trip the last pings measured, or -1 before any
     * @param lastProblem     the last refusal or error, such as "credentials refused: …" or "remote gateway … unreachable:
     *                        …", or null
     * @param lastProblemAt   when it happened, milliseconds since the epoch, or 0
     * @param refusedOpens    streams the remote tried to open that this local refused (it exposes no service)
     */
    record LinkStatus(String state, int links, int streams, long roundTripMicros, String lastProblem,
                      long lastProblemAt, long refusedOpens) {
    }

    record ProxySettings(String remoteHost, int remotePort, String user, boolean passwordSet,
                         String remoteFingerprint) {
    }
}
