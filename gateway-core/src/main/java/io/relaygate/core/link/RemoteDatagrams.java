package io.relaygate.core.link;

import io.relaygate.core.outbound.DatagramPath;
import io.relaygate.core.outbound.Dialer;
import io.relaygate.core.policy.Associations;
import io.relaygate.core.policy.PacketBudget;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.relay.TunnelRecord;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.spi.Destination;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The remote's end of a local's UDP association: the datagram records of one link stream sent on from a socket of
 * the remote's own, under its destination policy (per datagram) and the user's rate (over it: dropped), the replies
 * sent back as records with their source. Counted as the user's traffic; closed with its stream, at the idle
 * timeout, or when the user is revoked. Confined to the link's loop.
 */
final class RemoteDatagrams {

    private static final long REPORT_NANOS = 5_000_000_000L;

    private final EventLoop loop;
    private final RelayServices relay;
    private final TunnelRecord record;
    private final long idleNanos;
    private final Associations associations;
    private final PacketBudget budget;
    private final Shaping.Meter meter;
    private StreamDatagrams stream;
    private DatagramPath destinations;
    private Timer idleTimer;
    private Timer reportTimer;
    private long lastActivity;
    private long reportedUp;
    private long reportedDown;
    private boolean closed;

    private RemoteDatagrams(EventLoop loop, RelayServices relay, TunnelRecord record, Associations associations) {
        this.loop = loop;
        this.relay = relay;
        this.record = record;
        this.associations = associations;
        this.idleNanos = associations.idle().toNanos();
        this.budget = associations.packetBudget(loop.now());
        this.meter = relay.shaping().meterFor(record.user());
    }

    /**
     * Accepts datagram stream {@code id} of {@code link} for {@code record}'s user, or refuses it if no socket can
     * be opened. Loop only.
     */
    static void accept(EventLoop loop, LinkSession link, int id, Dialer dialer, RelayServices relay,
                       TunnelRecord record, Associations associations) {
        RemoteDatagrams relayed = new RemoteDatagrams(loop, relay, record, associations);
        DatagramPath direct;
        try {
            direct = dialer.datagrams(loop, relayed.new Replies());
        } catch (IOException e) {
            associations.release(record.user(), record.client().getAddress());
            link.refuse(id, io.relaygate.spi.TunnelOutcome.GENERAL_FAILURE);
            return;
        }
        InetSocketAddress bound = new InetSocketAddress(0);
        LinkStream linkStream = link.accept(id, bound);
        if (linkStream == null) {
            associations.release(record.user(), record.client().getAddress());
            direct.close();
            return;
        }
        relayed.destinations = direct;
        relayed.stream = new StreamDatagrams(linkStream, relayed::fromLocal, relayed.new StreamEnd());
        relayed.start();
    }

    private void start() {
        relay.stats().associationOpened();
        relay.sessions().opened(record.user(), this, loop, () -> close("user revoked"));
        reportTimer = loop.schedule(REPORT_NANOS, this::reportTraffic);
        lastActivity = loop.now();
        idleTimer = loop.schedule(idleNanos, this::checkIdle);
    }

    /** A datagram from the local's client: the policy and the rate decide, then it goes. */
    private void fromLocal(Destination destination, ByteBuffer payload) {
        if (closed) {
            return;
        }
        int size = payload.remaining();
        if (meter != null && !meter.admitDatagram(size)) {
            relay.stats().datagramDropped("over rate");
            return;
        }
        if (!budget.take(loop.now())) {
            relay.stats().datagramDropped("association rate");
            return;
        }
        lastActivity = loop.now();
        record.bytesUp(size);
        relay.stats().datagramUp(size);
        if (meter != null) {
            meter.addUp(size);
        }
        destinations.send(destination, payload);
    }

    /** What the remote's own socket hears. */
    private final class Replies implements DatagramPath.Receiver {
        @Override
        public void received(InetSocketAddress source, ByteBuffer payload) {
            if (closed) {
                return;
            }
            int size = payload.remaining();
            if (meter != null && !meter.admitDatagram(size)) {
                relay.stats().datagramDropped("over rate");
                return;
            }
            if (!budget.take(loop.now())) {
                relay.stats().datagramDropped("association rate");
                return;
            }
            lastActivity = loop.now();
            record.bytesDown(size);
            relay.stats().datagramDown(size);
            if (meter != null) {
                meter.addDown(size);
            }
            stream.send(Destination.of(source.getAddress(), source.getPort()), payload);
        }

        @Override
        public void dropped(String reason) {
            relay.stats().datagramDropped(reason);
        }

        @Override
        public void ended(String reason) {
            close(reason);
        }
    }

    /** What the stream's end of the path reports. */
    private final class StreamEnd implements DatagramPath.Receiver {
        @Override
        public void received(InetSocketAddress source, ByteBuffer payload) {
            // records arrive through fromLocal
        }

        @Override
        public void dropped(String reason) {
            relay.stats().datagramDropped(reason);
        }

        @Override
        public void ended(String reason) {
            close(reason);
        }
    }

    private void checkIdle() {
        if (closed) {
            return;
        }
        long quietFor = loop.now() - lastActivity;
        if (quietFor >= idleNanos) {
            close("idle timeout");
        } else {
            idleTimer = loop.schedule(idleNanos - quietFor, this::checkIdle);
        }
    }

    private void reportTraffic() {
        if (closed) {
            return;
        }
        relay.sessions().addTraffic(record.user(), record.bytesUp() - reportedUp, record.bytesDown() - reportedDown);
        reportedUp = record.bytesUp();
        reportedDown = record.bytesDown();
        reportTimer = loop.schedule(REPORT_NANOS, this::reportTraffic);
    }

    private void close(String outcome) {
        if (closed) {
            return;
        }
        closed = true;
        stream.close();
        destinations.close();
        idleTimer.cancel();
        reportTimer.cancel();
        relay.stats().associationClosed();
        associations.release(record.user(), record.client().getAddress());
        relay.sessions().closed(record.user(), this, record.bytesUp() - reportedUp, record.bytesDown() - reportedDown);
        record.outcome(outcome);
        relay.accessLog(record);
    }
}
