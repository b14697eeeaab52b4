package io.relaygate.core.relay;

import io.relaygate.core.accounts.Allowances;
import io.relaygate.core.policy.ConnectionLimits;
import java.net.InetSocketAddress;

/**
 * What the access log says about one tunnel: filled in by the connection that sets the tunnel up (protocol, user,
 * destination), then by its relay (bytes, outcome). Confined to the tunnel's loop.
 */
public final class TunnelRecord {
    final InetSocketAddress client;
    /**
     * The connection's hold on the caps, released at close by whoever closes last; null for a stream of a link,
     * whose link holds the permit of its socket.
     */
    final ConnectionLimits.Permit permit;
    final long startNanos;
    /** The tunnel's place under its user's cap, released with the permit; null when none was taken. */
    private Allowances.Admission admission;
    String protocol = "-";
    String user;
    String destination;
    long bytesUp;
    long bytesDown;
    String outcome;

    public TunnelRecord(InetSocketAddress client, ConnectionLimits.Permit permit, long startNanos) {
        this.client = client;
        this.permit = permit;
        this.startNanos = startNanos;
    }

    public InetSocketAddress client() {
        return client;
    }

    public ConnectionLimits.Permit permit() {
        return permit;
    }

    public String protocol() {
        return protocol;
    }

    public void protocol(String name) {
        this.protocol = name;
    }

    /** {@return the authenticated user the tunnel is charged to, or null} */
    public String user() {
        return user;
    }

    public void user(String name) {
        this.user = name;
    }

    /** {@return bytes from the client so far} */
    public long bytesUp() {
        return bytesUp;
    }

    /** {@return bytes to the client so far} */
    public long bytesDown() {
        return bytesDown;
    }

    /** Adds {@code n} bytes from the client. */
    public void bytesUp(long n) {
        bytesUp += n;
    }

    /** Adds {@code n} bytes to the client. */
    public void bytesDown(long n) {
        bytesDown += n;
    }

    /** Records how the tunnel ended. */
    public void outcome(String name) {
        this.outcome = name;
    }

    public void destination(String target) {
        this.destination = target;
    }

    /** Records a tunnel that never reached a relay. */
    public void failed(String outcomeName) {
        this.outcome = outcomeName;
    }

    /** Holds the tunnel's place under its user's cap until {@link #releasePermit}. */
    void admitted(Allowances.Admission slot) {
        this.admission = slot;
    }

    /** Gives back the connection's place in the caps and the tunnel's under its user's cap. Idempotent. */
    public void releasePermit() {
        if (permit != null) {
            permit.release();
        }
        releaseAdmission();
    }

    /** Gives back the tunnel's place under its user's cap, keeping the connection's permit. Idempotent. */
    public void releaseAdmission() {
        if (admission != null) {
            admission.release();
        }
    }

    @Override
    public String toString() {
        return protocol + " " + client + " => " + destination;
    }
}
