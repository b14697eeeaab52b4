package io.relaygate.core.link;

import io.relaygate.core.outbound.DatagramPath;
import io.relaygate.core.outbound.Dialer;
import io.relaygate.core.policy.Associations;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.relay.DatagramTraffic;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.relay.TunnelLife;
import io.relaygate.core.relay.TunnelRecord;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The remote's end of a local's UDP association: the datagram records of one link stream sent on from a socket of
 * the remote's own, under its destination policy (per datagram), the user's rate and the association's packet budget
 * (over them: dropped), the replies sent back as records with their source. Counted as the user's traffic; closed
 * with its stream, at the idle timeout, or when the user is revoked. Confined to the link's loop.
 */
final class RemoteDatagrams implements DatagramPath.Receiver {

    private final RelayServices relay;
    private final TunnelRecord record;
    private final Associations associations;
    private final TunnelLife life;
    private final DatagramTraffic traffic;
    private StreamDatagrams stream;
    private DatagramPath destinations;
    private boolean closed;

    private RemoteDatagrams(EventLoop loop, RelayServices relay, TunnelRecord record, Associations associations) {
        this.relay = relay;
        this.record = record;
        this.associations = associations;
        this.life = new TunnelLife(loop, relay, record, associations.idle().toNanos(), this::close);
        this.traffic = new DatagramTraffic(loop, relay, record, associations.packetBudget(loop.now()), life);
    }

    /**
     * Accepts datagram stream {@code id} of {@code link} for {@code record}'s user, whose place in
     * {@code associations} is already taken, or refuses it if no socket can be opened. Loop only.
     */
    static void accept(EventLoop loop, LinkSession link, int id, Dialer dialer, RelayServices relay,
                       TunnelRecord record, Associations associations) {
        RemoteDatagrams relayed = new RemoteDatagrams(loop, relay, record, associations);
        DatagramPath direct;
        try {
            direct = dialer.datagrams(loop, relayed);
        } catch (IOException e) {
            associations.release(record.user(), record.client().getAddress());
            record.releaseAdmission();
            link.refuse(id, TunnelOutcome.GENERAL_FAILURE);
            return;
        }
        LinkStream linkStream = link.accept(id, new InetSocketAddress(0));
        if (linkStream == null) {
            associations.release(record.user(), record.client().getAddress());
            record.releaseAdmission();
            direct.close();
            return;
        }
        relayed.destinations = direct;
        // The stream's own end reports drops and its end; its records are the local's datagrams.
        relayed.stream = new StreamDatagrams(linkStream, relayed::fromLocal, relayed);
        relay.stats().associationOpened();
        relayed.life.start();
    }

    /** A datagram from the local's client. */
    private void fromLocal(Destination destination, ByteBuffer payload) {
        if (!closed && traffic.admit(payload.remaining(), true)) {
            destinations.send(destination, payload);
        }
    }

    /** A reply from a destination, for the local's client. */
    @Override
    public void received(InetSocketAddress source, ByteBuffer payload) {
        if (source.getPort() == 0) {
            traffic.dropped("malformed");       // no reply can come from port 0; none is sent back as one
        } else if (!closed && traffic.admit(payload.remaining(), false)) {
            stream.send(Destination.of(source.getAddress(), source.getPort()), payload);
        }
    }

    @Override
    public void dropped(String reason) {
        traffic.dropped(reason);
    }

    @Override
    public void ended(String reason) {
        close(reason);
    }

    private void close(String outcome) {
        if (closed) {
            return;
        }
        closed = true;
        stream.close();
        destinations.close();
        relay.stats().associationClosed();
        associations.release(record.user(), record.client().getAddress());
        life.end(outcome);
    }
}
