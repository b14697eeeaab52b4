package io.relaygate.core.relay;

import io.relaygate.core.policy.PacketBudget;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.shaping.Shaping;

/**
 * One UDP association's accounting, datagram by datagram, at either end: the user's rate (a datagram over it is
 * dropped, never delayed), the association's packet budget, then the counters (the record, the gateway's, the
 * user's) and the idle time. Confined to the association's loop.
 */
public final class DatagramTraffic {

    private final EventLoop loop;
    private final RelayServices services;
    private final TunnelRecord record;
    private final Shaping.Meter meter;
    private final PacketBudget budget;
    private final TunnelLife life;

    public DatagramTraffic(EventLoop loop, RelayServices services, TunnelRecord record, PacketBudget budget,
                           TunnelLife life) {
        this.loop = loop;
        this.services = services;
        this.record = record;
        this.meter = services.shaping().meterFor(record.user());
        this.budget = budget;
        this.life = life;
    }

    /**
     * Admits one datagram of {@code size} payload bytes, from the client ({@code up}) or to it, and counts it; or
     * counts it as dropped. {@return whether it may go}
     */
    public boolean admit(int size, boolean up) {
        if (meter != null && !meter.admitDatagram(size, up)) {
            dropped("over rate");
            return false;
        }
        if (!budget.take(loop.now())) {
            dropped("association rate");
            return false;
        }
        life.active();
        if (up) {
            record.bytesUp(size);
            services.stats().datagramUp(size);
            if (meter != null) {
                meter.addUp(size);
            }
        } else {
            record.bytesDown(size);
            services.stats().datagramDown(size);
            if (meter != null) {
                meter.addDown(size);
            }
        }
        return true;
    }

    /** Counts a datagram dropped for {@code reason}, a fixed word. */
    public void dropped(String reason) {
        services.stats().datagramDropped(reason);
    }
}
