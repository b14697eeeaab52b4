package io.relaygate.core.accounts;

import io.relaygate.core.shaping.Shaping;
import io.relaygate.spi.Account;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.Quota;
import io.relaygate.spi.TunnelOutcome;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each user who logged in may still do, and the account limits that are not rates: the login refusals
 * (disabled, expired), the cap on concurrent tunnels, the traffic quota and the expiry of live users. Thread-safe:
 * logins record accounts on the blocking executor, loops admit tunnels, the account feed changes limits, the
 * housekeeping thread persists traffic and {@link #enforce enforces}.
 * <p>
 * A user's use of their quota is what the store held when last asked plus what this process moved since and has not
 * persisted: {@code stored + (moved - persistedBeforeAsking)}, from the user's {@link Shaping.Meter}. Asking and
 * persisting take one lock, so each ask sees exactly the bytes persisted before it. Another remote's traffic (a
 * shared store) counts from the next ask, at most one persisting interval later.
 */
public final class Allowances {

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.accounts");

    /** How stale a user's stored quota use may be before a login or {@link #enforce} asks the store again. */
    private static final long REFRESH_MILLIS = 5_000;

    private final AccountStore store;
    private final UserSessions sessions;
    private final Shaping shaping;
    private final Clock clock;
    private final ConcurrentHashMap<String, User> users = new ConcurrentHashMap<>();
    /** Told the name of each user who expired, after their sessions were revoked (the reverse tunnel's ports). */
    private final java.util.List<java.util.function.Consumer<String>> expiryListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param store    the account store, for the quota use by day
     * @param sessions the users' live tunnels and links, to close when a limit is reached
     * @param shaping  the users' meters (what moved) and buckets (the rates)
     * @param clock    the wall clock that expiry and calendar periods follow (a test clock in tests)
     */
    public Allowances(AccountStore store, UserSessions sessions, Shaping shaping, Clock clock) {
        this.store = store;
        this.sessions = sessions;
        this.shaping = shaping;
        this.clock = clock;
    }

    /** A user who logged in: their limits now, their tunnels, their quota use as last asked. */
    private static final class User {
        final String name;
        final Shaping.Meter meter;
        final AtomicInteger tunnels = new AtomicInteger();
        volatile AccountLimits limits;
        /** When the account that gave {@link #limits} was last changed: an older account never replaces them. */
        volatile java.time.Instant updated = java.time.Instant.MIN;
        /** The period {@link #stored} counts from, the epoch when not asked yet. Guarded by the allowances. */
        volatile LocalDate period = LocalDate.EPOCH;
        volatile long stored;
        volatile long persistedAtAsk;
        volatile long askedAt;
        /** Set once the user's tunnels were closed for the quota in {@link #period}, so it happens once a period. */
        volatile LocalDate closedForQuota;
        volatile boolean closedForExpiry;

        User(String name, Shaping.Meter meter, AccountLimits limits) {
            this.name = name;
            this.meter = meter;
            this.limits = limits;
        }

        long moved() {
            return meter == null ? 0 : meter.bytesUp() + meter.bytesDown();
        }

        long persisted() {
            return meter == null ? 0 : meter.persisted();
        }
    }

    /** Registers {@code listener} to hear each user who expires while logged in; it must be quick. */
    public void whenExpired(java.util.function.Consumer<String> listener) {
        expiryListeners.add(listener);
    }

    /** {@return the clock that expiry and periods follow} */
    public Clock clock() {
        return clock;
    }

    /**
     * {@return why {@code account} may not log in now, for the log only ({@code "disabled user"},
     * {@code "expired user"}), or null when it may} The client is refused as for a wrong password.
     */
    public String loginRefusal(Account account) {
        return loginRefusal(account, clock.instant());
    }

    /** {@return why {@code account} may not log in at {@code now}, or null when it may} See the instance method. */
    public static String loginRefusal(Account account, Instant now) {
        if (!account.enabled()) {
            return "disabled user";
        }
        return account.limits().expiredAt(now) ? "expired user" : null;
    }

    /**
     * Looks a user up for a login; for an account that may log in and has a quota, also learns its use of the quota,
     * so that the login's first tunnel is admitted on a current figure. Blocking: the blocking executor only.
     *
     * @throws RuntimeException from the store
     */
    public java.util.Optional<Account> lookUp(String name) {
        java.util.Optional<Account> account = store.find(name);
        account.filter(a -> a.limits().quota().limited() && loginRefusal(a) == null)
                .ifPresent(a -> refreshIfStale(entry(a), clock.instant()));
        return account;
    }

    /**
     * Records the account of a user who has just logged in: their rates reach the shaping, their limits the checks.
     * Any thread; does not block.
     */
    public void loggedIn(Account account) {
        AccountLimits limits = entry(account).limits;
        shaping.loggedIn(account.name(), limits.rate(), limits.rateUp(), limits.rateDown());
    }

    /**
     * The user's entry, its limits those of {@code account} unless the entry holds a newer account's: a login
     * looked its account up a moment before it completes, and a change may have come through the feed meanwhile.
     */
    private User entry(Account account) {
        return users.compute(account.name(), (name, known) -> {
            User user = known != null ? known : new User(name, shaping.meterFor(name), account.limits());
            if (!account.updated().isBefore(user.updated)) {
                user.limits = account.limits();
                user.updated = account.updated();
            }
            return user;
        });
    }

    /**
     * Applies a change from the account feed: rates at once, the other limits from the next check. Any thread; atomic
     * with a login's recording of its account, so the newer of the two wins.
     */
    public void changed(Account account) {
        AccountLimits limits = account.limits();
        users.computeIfPresent(account.name(), (name, user) -> {
            AccountLimits before = user.limits;
            user.limits = limits;
            user.updated = account.updated();
            if (!limits.quota().equals(before.quota())) {
                user.askedAt = 0;               // a new quota may count another period: ask again
            }
            if (!java.util.Objects.equals(limits.expires(), before.expires())) {
                user.closedForExpiry = false;
            }
            return user;
        });
        shaping.rateChanged(account.name(), limits.rate(), limits.rateUp(), limits.rateDown());
    }

    /** Forgets a deleted user (their sessions are revoked elsewhere). Any thread. */
    public void deleted(String name) {
        users.remove(name);
        shaping.deleted(name);
    }

    /**
     * Admits one tunnel of {@code user}, on a loop: {@code null} when the user has no limits here (not logged in
     * through this gateway's accounts); otherwise a slot to release when the tunnel ends, or a refusal.
     */
    public Admission admit(String user) {
        User u = user == null ? null : users.get(user);
        if (u == null) {
            return Admission.UNLIMITED;
        }
        AccountLimits limits = u.limits;
        if (limits.quota().limited() && used(u) >= limits.quota().bytes()
                && u.period.equals(limits.quota().periodStart(clock.instant()))) {
            return Admission.QUOTA_REACHED;
        }
        int cap = limits.maxConnections();
        while (true) {
            int held = u.tunnels.get();
            if (cap > 0 && held >= cap) {
                return Admission.CAP_REACHED;
            }
            if (u.tunnels.compareAndSet(held, held + 1)) {
                return new Admission(u.tunnels, null);
            }
        }
    }

    /**
     * A tunnel's admission: a slot to release exactly once when it ends, or a refusal. Released from any thread;
     * idempotent.
     */
    public static final class Admission {
        static final Admission UNLIMITED = new Admission(null, null);
        static final Admission CAP_REACHED = new Admission(null, TunnelOutcome.CONNECTION_CAP_REACHED);
        static final Admission QUOTA_REACHED = new Admission(null, TunnelOutcome.QUOTA_REACHED);

        private final AtomicInteger tunnels;
        private final TunnelOutcome refusal;
        private final java.util.concurrent.atomic.AtomicBoolean released =
                new java.util.concurrent.atomic.AtomicBoolean();

        private Admission(AtomicInteger tunnels, TunnelOutcome refusal) {
            this.tunnels = tunnels;
            this.refusal = refusal;
        }

        /** {@return whether the tunnel was refused} */
        public boolean refused() {
            return refusal != null;
        }

        /** {@return the outcome to answer the client with, or null when admitted} */
        public TunnelOutcome refusal() {
            return refusal;
        }

        /** {@return a line for the log: why the tunnel was refused} */
        public String reason() {
            return refusal == TunnelOutcome.QUOTA_REACHED ? "the user's traffic quota is used up"
                    : "the user holds as many tunnels as max-connections allows";
        }

        /** Gives the slot back. */
        public void release() {
            if (tunnels != null && released.compareAndSet(false, true)) {
                tunnels.decrementAndGet();
            }
        }
    }

    /** {@return the limits of {@code user} as last seen here, or null when the user has not logged in here} */
    public AccountLimits limits(String user) {
        User u = users.get(user);
        return u == null ? null : u.limits;
    }

    /** {@return the tunnels {@code user} holds under their cap now} */
    public int tunnels(String user) {
        User u = users.get(user);
        return u == null ? 0 : u.tunnels.get();
    }

    /**
     * {@return {@code user}'s use of their quota in the current period, bytes both ways, as known here; -1 when the
     * user has not logged in here or has no quota}
     */
    public long quotaUsed(String user) {
        User u = users.get(user);
        return u == null || !u.limits.quota().limited() || u.period.equals(LocalDate.EPOCH) ? -1 : used(u);
    }

    private static long used(User u) {
        return u.stored + Math.max(0, u.moved() - u.persistedAtAsk);
    }

    /**
     * Persists the traffic counted since the last call, as increments on today's UTC day, and marks it persisted in
     * the users' meters. Housekeeping thread; blocking.
     *
     * @throws RuntimeException from the store; the traffic was put back to try again
     */
    public synchronized void persist() {
        Map<String, long[]> traffic = sessions.drainTraffic();
        if (traffic.isEmpty()) {
            return;
        }
        try {
            store.addTraffic(LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC), traffic);
        } catch (RuntimeException e) {
            traffic.forEach(sessions::addTrafficBack);
            throw e;
        }
        traffic.forEach((name, bytes) -> {
            Shaping.Meter meter = shaping.meterFor(name);
            if (meter != null) {
                meter.persisted(bytes[0] + bytes[1]);
            }
        });
    }

    /**
     * Closes the tunnels of users whose quota is used up and revokes users who expired; asks the store again for
     * the quota use of users whose figure is stale or whose period turned. Housekeeping thread, every few hundred
     * milliseconds; blocking.
     */
    public void enforce() {
        Instant now = clock.instant();
        for (User u : users.values()) {
            AccountLimits limits = u.limits;
            // Expiry first, active or not: a user whose links all ended a moment ago may still hold reverse ports.
            if (limits.expiredAt(now)) {
                if (!u.closedForExpiry) {
                    u.closedForExpiry = true;
                    int closed = sessions.revoke(u.name);
                    log.info("user {} expired at {}: closing {} live tunnels and links", u.name, limits.expires(),
                            closed);
                    expiryListeners.forEach(l -> l.accept(u.name));
                }
                continue;
            }
            Quota quota = limits.quota();
            if (!quota.limited() || !sessions.active(u.name)) {
                continue;
            }
            try {
                refreshIfStale(u, now);
            } catch (RuntimeException e) {
                log.warn("reading {}'s quota use failed, will retry: {}", u.name, e.toString());
            }
            LocalDate period = quota.periodStart(now);
            if (u.period.equals(period) && used(u) >= quota.bytes() && !period.equals(u.closedForQuota)) {
                u.closedForQuota = period;
                int closed = sessions.closeTunnels(u.name, "quota reached");
                log.info("user {} reached their quota of {} (until {}): closing {} live tunnels", u.name, quota,
                        quota.periodEnd(now), closed);
            }
        }
    }

    private synchronized void refreshIfStale(User u, Instant now) {
        LocalDate period = u.limits.quota().periodStart(now);
        if (u.period.equals(period) && now.toEpochMilli() - u.askedAt < REFRESH_MILLIS) {
            return;
        }
        long persistedBefore = u.persisted();
        long[] bytes = store.traffic(u.name, period);
        u.stored = bytes[0] + bytes[1];
        u.persistedAtAsk = persistedBefore;
        u.period = period;
        u.askedAt = now.toEpochMilli();
    }
}
