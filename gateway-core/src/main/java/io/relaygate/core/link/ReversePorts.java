package io.relaygate.core.link;

import io.relaygate.core.config.ReverseConfig;
import io.relaygate.core.net.Listener;
import io.relaygate.core.net.SocketPort;
import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.policy.DestinationPolicy;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.relay.Relay;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.relay.TunnelRecord;
import io.relaygate.core.wire.LinkMessages;
import io.relaygate.core.wire.LinkMessages.RegisterOutcome;
import io.relaygate.spi.Account;
import io.relaygate.spi.AccountChange;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote's public ports for the services its locals expose (the reverse tunnel). A local registers a service on
 * one of its links; this grants a port from the pool (the one asked for, else the one the service had before, else
 * the first free one) or refuses with a typed reason, listens on it on that link's loop, and for each visitor opens
 * a stream to the local carrying the service's name and the visitor's address, relayed under the user's rate limit
 * and counters. When the link ends, the port stops listening (visitors are refused) and stays reserved for the user
 * for {@code reverse.holdFor}; the (user, service) → port assignment is kept in the account store, so a reconnecting
 * local gets the same port back, even after the remote restarts.
 * <p>
 * Thread-safe: decisions read the account store, so they run on the blocking executor, one at a time under this
 * object's lock; a service's visitors are served on the loop of the link that registered it.
 */
public final class ReversePorts implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.reverse");
    /** How many registrations one link may have waiting for a decision; more are refused unchecked. */
    static final int MAX_PENDING_PER_LINK = 16;

    private final ReverseConfig.Pool pool;
    private final AccountStore store;
    private final Executor blocking;
    private final ConnectionLimits limits;
    private final RelayServices relay;
    private final Map<Key, Service> services = new HashMap<>();
    private final Map<Integer, Service> byPort = new HashMap<>();
    private boolean closed;

    private record Key(String user, String name) {
    }

    /**
     * What {@code GET /api/tunnels} shows of one service.
     *
     * @param state       {@code active} (listening for visitors) or {@code held} (its local is away)
     * @param visitors    visitors connected now
     * @param visits      visitors served since the service was granted
     * @param bytesUp     bytes from visitors so far
     * @param bytesDown   bytes to visitors so far
     */
    public record Snapshot(String user, String name, int port, String state, int visitors, long visits,
                           long bytesUp, long bytesDown) {
    }

    /** One exposed service: active on a link, or held for its user while its local is away. */
    private final class Service {
        final Key key;
        final int port;
        RemoteLink link;
        Listener listener;
        long heldUntil;
        int maxVisitors;
        List<DestinationPolicy.Rule> allowFrom = List.of();
        /** The relays of its visitors; confined to the link's loop. */
        final Set<Relay> relays = new HashSet<>();
        final AtomicInteger visitors = new AtomicInteger();
        final AtomicLong visits = new AtomicLong();
        final LongAdder bytesUp = new LongAdder();
        final LongAdder bytesDown = new LongAdder();

        Service(Key key, int port) {
            this.key = key;
            this.port = port;
        }

        boolean held() {
            return link == null;
        }

        /** A visitor connected: on the link's loop. */
        void visit(EventLoop loop, SocketPort visitor, InetSocketAddress client, ConnectionLimits.Permit permit) {
            // A visitor has no handshake: its source's place among connections in a handshake is free at once, so
            // that many visitors from one address are capped by maxVisitors and maxConnections, not by 32.
            permit.endHandshake();
            RemoteLink owner;
            List<DestinationPolicy.Rule> allowed;
            int cap;
            synchronized (ReversePorts.this) {
                owner = link;
                allowed = allowFrom;
                cap = maxVisitors;
            }
            String refusal = null;
            if (owner == null || owner.session() == null || !owner.session().canOpen()) {
                refusal = "its local is away";
            } else if (!allowed.isEmpty() && allowed.stream().noneMatch(r -> r.matches(client.getAddress(),
                    client.getPort()))) {
                refusal = "address not in allowFrom";
            } else if (cap > 0 && visitors.get() >= cap) {
                refusal = "maxVisitors reached";
            }
            if (refusal != null) {
                relay.stats().tunnelFailed("reverse: " + refusal);
                log.debug("visitor {} of {} refused: {}", LogText.address(client), this, refusal);
                visitor.reset();
                permit.release();
                return;
            }
            visitors.incrementAndGet();
            visits.incrementAndGet();
            TunnelRecord record = new TunnelRecord(client, permit, System.nanoTime());
            record.protocol("reverse");
            record.user(key.user());
            record.destination(key.name());
            owner.session().open(Destination.of(client.getAddress(), client.getPort()), key.name(),
                    new LinkSession.OpenCallback() {
                        @Override
                        public void opened(LinkStream stream, InetSocketAddress bound) {
                            Relay visit = new Relay(loop, relay, record, visitor, stream, null, null);
                            relays.add(visit);
                            visit.countInto(bytesUp, bytesDown);
                            visit.whenClosed(() -> {
                                relays.remove(visit);
                                visitors.decrementAndGet();
                            });
                            visit.start();
                        }

                        @Override
                        public void failed(TunnelOutcome outcome, String reason, boolean retry) {
                            visitors.decrementAndGet();
                            relay.stats().tunnelFailed(outcome.name());
                            log.debug("visitor {} of {}: the local answered {}", LogText.address(client),
                                    Service.this, reason);
                            record.failed(outcome.name());
                            relay.accessLog(record);
                            visitor.reset();
                            record.releasePermit();
                        }
                    });
        }

        /** Stops listening and ends its visits; on the link's loop, or anywhere once the loops have stopped. */
        void stopListening(String why) {
            if (listener != null) {
                listener.close();
                listener = null;
            }
            for (Relay visit : List.copyOf(relays)) {
                visit.terminate(why);
            }
        }

        @Override
        public String toString() {
            return LogText.escape(key.user()) + "/" + key.name() + " at port " + port;
        }
    }

    /**
     * @param pool     the public ports and where they listen
     * @param store    the accounts (may expose how many ports) and the kept port assignments
     * @param blocking the bounded executor that runs the decisions
     * @param limits   the caps a visitor counts against, as any client
     * @param relay    what the visitors' relays share
     */
    public ReversePorts(ReverseConfig.Pool pool, AccountStore store, Executor blocking, ConnectionLimits limits,
                        RelayServices relay) {
        this.pool = pool;
        this.store = store;
        this.blocking = blocking;
        this.limits = limits;
        this.relay = relay;
    }

    /** {@return whether a service registered on {@code link} has its public port there} Thread-safe. */
    synchronized boolean listensFor(RemoteLink link) {
        for (Service service : services.values()) {
            if (service.link == link) {
                return true;
            }
        }
        return false;
    }

    /**
     * A local asked on {@code link} for a public port for its service: decides off the loop, then answers on the
     * link's loop with REGISTER_RESULT. One link's registrations are decided in the order they came, so that the
     * local's first services get the user's ports first. Loop only.
     */
    void register(RemoteLink link, LinkMessages.Register request) {
        if (link.pendingRegistrations >= MAX_PENDING_PER_LINK) {
            link.answer(new LinkMessages.RegisterResult(request.name(), RegisterOutcome.INVALID, 0));
            return;
        }
        link.pendingRegistrations++;
        if (link.deciding) {
            link.queuedRegistrations.add(request);
            return;
        }
        decideInTurn(link, request);
    }

    private void decideInTurn(RemoteLink link, LinkMessages.Register request) {
        link.deciding = true;
        try {
            blocking.execute(() -> {
                LinkMessages.RegisterResult result;
                try {
                    result = decide(link, request);
                } catch (RuntimeException e) {
                    log.warn("registering {} for user {} failed: {}", request.name(), LogText.escape(link.user()),
                            e.toString());
                    result = new LinkMessages.RegisterResult(request.name(), RegisterOutcome.POOL_FULL, 0);
                }
                LinkMessages.RegisterResult answer = result;
                link.loop().execute(() -> {
                    link.pendingRegistrations--;
                    link.answer(answer);
                    nextInTurn(link);
                });
            });
        } catch (RejectedExecutionException e) {
            link.pendingRegistrations--;
            link.answer(new LinkMessages.RegisterResult(request.name(), RegisterOutcome.POOL_FULL, 0));
            nextInTurn(link);
        }
    }

    private void nextInTurn(RemoteLink link) {
        link.deciding = false;
        if (link.isGone()) {
            link.pendingRegistrations -= link.queuedRegistrations.size();
            link.queuedRegistrations.clear();
            return;
        }
        LinkMessages.Register next = link.queuedRegistrations.poll();
        if (next != null) {
            decideInTurn(link, next);
        }
    }

    private LinkMessages.RegisterResult decide(RemoteLink link, LinkMessages.Register request) {
        String user = link.user();
        Key key = new Key(user, request.name());
        if (!pool.enabled()) {
            return refuse(key, RegisterOutcome.REVERSE_OFF);
        }
        if (request.requestedPort() != 0 && !pool.contains(request.requestedPort())) {
            return refuse(key, RegisterOutcome.OUTSIDE_POOL);
        }
        Optional<Account> account = store.find(user);
        int allowed = account.filter(a -> relay.allowances() == null ? a.enabled()
                : relay.allowances().loginRefusal(a) == null).map(Account::exposePorts).orElse(0);
        if (allowed == 0) {
            return refuse(key, RegisterOutcome.NOT_ALLOWED);
        }
        Optional<Integer> sticky = request.requestedPort() == 0 ? store.assignedPort(user, request.name())
                : Optional.empty();
        Service granted;
        synchronized (this) {
            if (closed || link.isGone()) {
                return refuse(key, RegisterOutcome.CLOSED);
            }
            expireHolds();
            Service existing = services.get(key);
            if (existing != null && !existing.held()) {
                return refuse(key, existing.link == link ? RegisterOutcome.INVALID : RegisterOutcome.NAME_IN_USE);
            }
            long holding = services.values().stream().filter(s -> s.key.user().equals(user) && !s.key.equals(key))
                    .count();
            if (holding >= allowed) {
                return refuse(key, RegisterOutcome.QUOTA_REACHED);
            }
            List<Integer> candidates = new ArrayList<>();
            if (request.requestedPort() != 0) {
                int port = request.requestedPort();
                Service owner = byPort.get(port);
                if (owner != null && !owner.key.equals(key)) {
                    return refuse(key, RegisterOutcome.PORT_TAKEN);
                }
                candidates.add(port);
            } else {
                if (existing != null) {
                    candidates.add(existing.port);
                }
                sticky.filter(pool::contains).filter(p -> free(p, key)).ifPresent(candidates::add);
                BitSet ports = pool.ports();
                for (int p = ports.nextSetBit(0); p >= 0 && candidates.size() < 64; p = ports.nextSetBit(p + 1)) {
                    if (free(p, key)) {
                        candidates.add(p);
                    }
                }
            }
            if (existing != null && (candidates.isEmpty() || candidates.get(0) != existing.port)) {
                forget(existing);
            }
            granted = null;
            for (int port : candidates) {
                Service service = existing != null && existing.port == port ? existing : new Service(key, port);
                try {
                    service.listener = new Listener("reverse " + request.name(),
                            new InetSocketAddress(pool.bind(), port), List.of(link.loop()), limits, relay.stats(),
                            service::visit);
                } catch (IOException e) {
                    // Another program holds the port: the pool is the operator's promise, not the system's.
                    log.debug("reverse port {} cannot listen: {}", port, e.toString());
                    continue;
                }
                // Not start(): it waits for the loop, which may be waiting for this lock.
                service.listener.startLater();
                service.link = link;
                service.maxVisitors = request.maxVisitors();
                service.allowFrom = request.allowFrom().stream().map(b -> new DestinationPolicy.Rule(b.network(),
                        b.prefix(), 1, 65_535)).toList();
                services.put(key, service);
                byPort.put(port, service);
                granted = service;
                break;
            }
            if (granted == null) {
                return refuse(key, request.requestedPort() != 0 ? RegisterOutcome.PORT_TAKEN
                        : RegisterOutcome.POOL_FULL);
            }
        }
        try {
            store.assignPort(user, request.name(), granted.port);
        } catch (RuntimeException e) {
            log.warn("keeping port {} for {}/{} failed (a restart may give another): {}", granted.port,
                    LogText.escape(user), request.name(), e.toString());
        }
        log.info("user {} exposes {} at port {}", LogText.escape(user), request.name(), granted.port);
        return new LinkMessages.RegisterResult(request.name(), RegisterOutcome.GRANTED, granted.port);
    }

    private LinkMessages.RegisterResult refuse(Key key, RegisterOutcome outcome) {
        log.debug("registration of {} for user {} refused: {}", key.name(), LogText.escape(key.user()),
                outcome.reason());
        return new LinkMessages.RegisterResult(key.name(), outcome, 0);
    }

    /** {@return whether {@code port} is neither listening nor held for a service other than {@code key}} */
    private boolean free(int port, Key key) {
        Service owner = byPort.get(port);
        return owner == null || owner.key.equals(key);
    }

    private void expireHolds() {
        long now = System.nanoTime();
        for (Service service : List.copyOf(services.values())) {
            if (service.held() && now - service.heldUntil >= 0) {
                forget(service);
            }
        }
    }

    private void forget(Service service) {
        services.remove(service.key, service);
        byPort.remove(service.port, service);
    }

    /** {@code link} ended: its services stop listening and are held for their user. On the link's loop. */
    void linkClosed(RemoteLink link) {
        List<Service> stopped = new ArrayList<>();
        synchronized (this) {
            long until = System.nanoTime() + pool.holdFor().toNanos();
            for (Service service : services.values()) {
                if (service.link == link) {
                    service.link = null;
                    service.heldUntil = until;
                    stopped.add(service);
                }
            }
        }
        for (Service service : stopped) {
            service.stopListening("link closed");
            log.info("{}: the local is away; the port is held for {}", service, pool.holdFor());
        }
    }

    /**
     * An account changed: a disabled or deleted user loses every port (held ones too), and a user whose allowance
     * fell below what they hold loses the most recent ports beyond it. Any thread.
     */
    public void accountChanged(AccountChange change) {
        boolean gone = change.kind() == AccountChange.Kind.DELETED
                || (change.kind() == AccountChange.Kind.UPDATED && !change.account().enabled());
        int allowed = gone || change.account() == null ? 0 : change.account().exposePorts();
        allow(change.name(), allowed, gone ? "the user was " + (change.kind() == AccountChange.Kind.DELETED
                ? "deleted" : "disabled") : "the user may expose fewer ports");
    }

    /** The user's account expired: every port of theirs closes, held ones too. Any thread. */
    public void userExpired(String user) {
        allow(user, 0, "the user's account expired");
    }

    /** Closes {@code user}'s ports beyond {@code allowed}, held ones first, then the lowest. */
    private void allow(String user, int allowed, String reason) {
        List<Service> ending = new ArrayList<>();
        synchronized (this) {
            List<Service> mine = services.values().stream().filter(s -> s.key.user().equals(user))
                    .sorted(Comparator.comparingInt((Service s) -> s.held() ? 0 : 1).thenComparingInt(s -> s.port))
                    .toList();
            for (int i = 0; i < mine.size() - allowed; i++) {
                ending.add(mine.get(i));
            }
            ending.forEach(this::forget);
        }
        for (Service service : ending) {
            end(service, reason);
        }
    }

    /**
     * Closes one user's service, as the operator asked: its port stops listening, its visitors are closed, the local
     * is told (and does not ask again until it restarts). Any thread.
     *
     * @return whether there was such a service
     */
    public boolean close(String user, String name) {
        Service service;
        synchronized (this) {
            service = services.get(new Key(user, name));
            if (service != null) {
                forget(service);
            }
        }
        if (service != null) {
            end(service, "closed by the operator");
        }
        return service != null;
    }

    private void end(Service service, String why) {
        RemoteLink link = service.link;
        service.link = null;
        if (link == null) {
            log.info("{}: released ({})", service, why);
            return;
        }
        link.loop().execute(() -> {
            service.stopListening(why);
            link.answer(new LinkMessages.RegisterResult(service.key.name(), RegisterOutcome.CLOSED, 0));
            log.info("{}: closed ({})", service, why);
        });
    }

    /** {@return every service, active and held, by user and name} */
    public synchronized List<Snapshot> snapshot() {
        expireHolds();
        return services.values().stream()
                .sorted(Comparator.comparing((Service s) -> s.key.user()).thenComparing(s -> s.key.name()))
                .map(s -> new Snapshot(s.key.user(), s.key.name(), s.port, s.held() ? "held" : "active",
                        s.visitors.get(), s.visits.get(), s.bytesUp.sum(), s.bytesDown.sum()))
                .toList();
    }

    /** Stops every public port; the loops' own stop closes the visitors. Called once, at shutdown. */
    @Override
    public void close() {
        List<Service> all;
        synchronized (this) {
            closed = true;
            all = List.copyOf(services.values());
            services.clear();
            byPort.clear();
        }
        for (Service service : all) {
            if (service.listener != null) {
                service.listener.close();
            }
        }
    }
}
