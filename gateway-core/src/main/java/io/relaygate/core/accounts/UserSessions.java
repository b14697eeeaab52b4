package io.relaygate.core.accounts;

import io.relaygate.core.reactor.EventLoop;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The remote's live tunnels by user, and the traffic they moved that the account store has not counted yet: so
 * that disabling or deleting a user closes their tunnels at once, and counters are persisted as increments.
 * Thread-safe: loops register and unregister, the account feed revokes, the flusher drains.
 */
public final class UserSessions {

    /** What a registered connection of a user is: a tunnel relaying, or an authenticated link. */
    public enum Kind { TUNNEL, LINK }

    /**
     * How to end one of a user's connections: tasks for its loop.
     *
     * @param close ends it at once, with the outcome to log ({@code "user revoked"}, {@code "quota reached"})
     * @param drain for a link: stop taking streams and close once the open ones have ended (the gateway stops)
     */
    private record Session(Kind kind, EventLoop loop, java.util.function.Consumer<String> close, Runnable drain) {
    }

    private final ConcurrentHashMap<String, ConcurrentHashMap<Object, Session>> byUser = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, long[]> unflushed = new ConcurrentHashMap<>();
    /** Numbers revocations, so a login that looked its account up before one can tell. */
    private final java.util.concurrent.atomic.AtomicLong revocations = new java.util.concurrent.atomic.AtomicLong();
    private final ConcurrentHashMap<String, Long> lastRevocation = new ConcurrentHashMap<>();

    /** Set once the gateway stops: a link that registers from then on is drained at once. */
    private volatile boolean draining;

    /** What became of a link's registration. */
    public enum Registration { REGISTERED, TOO_MANY_LINKS, REVOKED }

    /**
     * Registers a tunnel of {@code user} that relays now; {@code close} ends it on {@code loop} with an outcome if the
     * user is revoked or reaches a limit.
     */
    public void opened(String user, Object tunnel, EventLoop loop, java.util.function.Consumer<String> close) {
        byUser.computeIfAbsent(user, k -> new ConcurrentHashMap<>())
                .put(tunnel, new Session(Kind.TUNNEL, loop, close, null));
    }

    /** The tunnel has closed; what it moved since it last reported is counted. */
    public void closed(String user, Object tunnel, long up, long down) {
        unregister(user, tunnel);
        addTraffic(user, up, down);
    }

    /**
     * Registers an authenticated link of {@code user}, unless the user holds {@code maxLinks} already: a user's links
     * are capped so that they cannot fill the gateway's connection cap for everyone else.
     *
     * @param close ends the link at once, if the user is revoked
     * @param drain stops the link taking streams, when the gateway stops
     * @param lookedUpAt {@link #revocationMark()} when the login looked the account up: a revocation since then
     *                   means the account it checked is no longer the account
     * @return whether it was registered; otherwise the link should close
     */
    public Registration registerLink(String user, Object link, EventLoop loop, Runnable close, Runnable drain,
                                     int maxLinks, long lookedUpAt) {
        Registration[] result = {Registration.TOO_MANY_LINKS};
        byUser.compute(user, (k, sessions) -> {
            ConcurrentHashMap<Object, Session> all = sessions != null ? sessions : new ConcurrentHashMap<>();
            // Inside compute: a revocation of this user either ran before (and is seen here) or runs after (and
            // finds this link registered).
            if (lastRevocation.getOrDefault(user, 0L) > lookedUpAt) {
                result[0] = Registration.REVOKED;
            } else if (count(all, Kind.LINK) < maxLinks) {
                all.put(link, new Session(Kind.LINK, loop, reason -> close.run(), drain));
                result[0] = Registration.REGISTERED;
            }
            return all.isEmpty() ? null : all;
        });
        if (result[0] == Registration.REGISTERED && draining) {
            // It authenticated while the gateway began to stop (after drainLinks looked): drain it too.
            loop.execute(drain);
        }
        return result[0];
    }

    /** {@return a mark to take before looking an account up, for {@link #registerLink}} */
    public long revocationMark() {
        return revocations.get();
    }

    public void unregister(String user, Object owner) {
        byUser.computeIfPresent(user, (k, sessions) -> {
            sessions.remove(owner);
            return sessions.isEmpty() ? null : sessions;
        });
    }

    /** Counts bytes not yet persisted, e.g. of a tunnel still open. */
    public void addTraffic(String user, long up, long down) {
        if (up != 0 || down != 0) {
            unflushed.merge(user, new long[] {up, down}, (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        }
    }

    /** Puts back increments whose persisting failed, so the next flush tries them again. */
    public void addTrafficBack(String user, long[] bytes) {
        addTraffic(user, bytes[0], bytes[1]);
    }

    /** Closes every live tunnel of {@code user}, each on its own loop. {@return how many were asked to close} */
    public int revoke(String user) {
        long[] mark = {0};
        byUser.compute(user, (k, sessions) -> {
            mark[0] = revocations.incrementAndGet();
            lastRevocation.put(user, mark[0]);
            return sessions;
        });
        Map<Object, Session> sessions = byUser.get(user);
        if (sessions == null) {
            return 0;
        }
        for (Session session : sessions.values()) {
            session.loop().execute(() -> session.close().accept("user revoked"));
        }
        return sessions.size();
    }

    /**
     * Closes every live tunnel of {@code user} with {@code outcome}, each on its own loop, and leaves the user's links
     * open (a limit reached: new tunnels are refused one by one). {@return how many were asked to close}
     */
    public int closeTunnels(String user, String outcome) {
        Map<Object, Session> sessions = byUser.get(user);
        if (sessions == null) {
            return 0;
        }
        int closed = 0;
        for (Session session : sessions.values()) {
            if (session.kind() == Kind.TUNNEL) {
                session.loop().execute(() -> session.close().accept(outcome));
                closed++;
            }
        }
        return closed;
    }

    /** {@return whether {@code user} holds a live tunnel or link now} */
    public boolean active(String user) {
        return byUser.containsKey(user);
    }

    /**
     * Drains every authenticated link: each takes no new stream and closes once its tunnels have ended, as a
     * stopping remote does. {@return how many were asked to}
     */
    public int drainLinks() {
        draining = true;
        int drained = 0;
        for (Map<Object, Session> sessions : byUser.values()) {
            for (Session session : sessions.values()) {
                if (session.kind() == Kind.LINK) {
                    session.loop().execute(session.drain());
                    drained++;
                }
            }
        }
        return drained;
    }

    /** {@return the live tunnels of {@code user}} */
    public int tunnels(String user) {
        return count(byUser.get(user), Kind.TUNNEL);
    }

    /** {@return the authenticated links of {@code user}} */
    public int links(String user) {
        return count(byUser.get(user), Kind.LINK);
    }

    /** {@return every registered tunnel and link, of all users (tests check it returns to zero)} */
    public int size() {
        int size = 0;
        for (Map<Object, Session> sessions : byUser.values()) {
            size += sessions.size();
        }
        return size;
    }

    private static int count(Map<Object, Session> sessions, Kind kind) {
        if (sessions == null) {
            return 0;
        }
        int n = 0;
        for (Session session : sessions.values()) {
            if (session.kind() == kind) {
                n++;
            }
        }
        return n;
    }

    /** {@return the traffic counted since the last call, by user ({@code long[]{up, down}}), and forgets it} */
    public Map<String, long[]> drainTraffic() {
        Map<String, long[]> drained = new HashMap<>();
        for (String user : unflushed.keySet()) {
            long[] bytes = unflushed.remove(user);
            if (bytes != null) {
                drained.put(user, bytes);
            }
        }
        return drained;
    }
}
