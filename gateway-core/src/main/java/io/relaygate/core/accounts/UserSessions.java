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

    /** What a registered connection of a user is: a tunnel relaying, or an authenticated link carrying none. */
    public enum Kind { TUNNEL, LINK }

    /**
     * How to end one of a user's connections: a task for its loop.
     *
     * @param settled for a link: it has stayed idle past its grace time, and counts against the cap
     */
    private record Session(Kind kind, EventLoop loop, Runnable close, boolean settled) {
    }

    private final ConcurrentHashMap<String, ConcurrentHashMap<Object, Session>> byUser = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, long[]> unflushed = new ConcurrentHashMap<>();

    /**
     * Registers a tunnel of {@code user} that relays now; {@code close} ends it on {@code loop} if the user is
     * revoked.
     */
    public void opened(String user, Object tunnel, EventLoop loop, Runnable close) {
        byUser.computeIfAbsent(user, k -> new ConcurrentHashMap<>())
                .put(tunnel, new Session(Kind.TUNNEL, loop, close, false));
    }

    /** The tunnel has closed; what it moved since it last reported is counted. */
    public void closed(String user, Object tunnel, long up, long down) {
        unregister(user, tunnel);
        addTraffic(user, up, down);
    }

    /** Registers an authenticated link of {@code user} that carries no tunnel, to be closed if the user is revoked. */
    public void registerLink(String user, Object link, EventLoop loop, Runnable close) {
        byUser.computeIfAbsent(user, k -> new ConcurrentHashMap<>())
                .put(link, new Session(Kind.LINK, loop, close, false));
    }

    /**
     * A link that is still idle after its grace time settles: it counts against the user's cap from now on, unless
     * {@code maxSettled} settled links of the user exist already. A link that opens its stream within the grace
     * time (a tunnel's, one round trip after login) never counts, so a burst of new tunnels is never refused.
     *
     * @return whether it settled; false: the cap is reached and the link should close
     */
    public boolean settleLink(String user, Object link, int maxSettled) {
        boolean[] settled = {false};
        byUser.computeIfPresent(user, (k, sessions) -> {
            Session session = sessions.get(link);
            if (session == null || session.kind() != Kind.LINK) {
                return sessions;
            }
            long alreadySettled = sessions.values().stream().filter(s -> s.kind() == Kind.LINK && s.settled())
                    .count();
            if (session.settled() || alreadySettled < maxSettled) {
                sessions.put(link, new Session(Kind.LINK, session.loop(), session.close(), true));
                settled[0] = true;
            }
            return sessions;
        });
        return settled[0];
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
        Map<Object, Session> sessions = byUser.get(user);
        if (sessions == null) {
            return 0;
        }
        for (Session session : sessions.values()) {
            session.loop().execute(session.close());
        }
        return sessions.size();
    }

    /**
     * Closes every idle authenticated link (not the tunnels): a stopping remote drains tunnels, not links that
     * carry nothing. {@return how many were asked to close}
     */
    public int closeIdleLinks() {
        int closed = 0;
        for (Map<Object, Session> sessions : byUser.values()) {
            for (Map.Entry<Object, Session> entry : sessions.entrySet()) {
                if (entry.getValue().kind() == Kind.LINK) {
                    entry.getValue().loop().execute(entry.getValue().close());
                    closed++;
                }
            }
        }
        return closed;
    }

    /** {@return the live tunnels of {@code user}} */
    public int tunnels(String user) {
        return count(byUser.get(user), Kind.TUNNEL);
    }

    /** {@return the idle authenticated links of {@code user} (links that carry a tunnel count as tunnels)} */
    public int links(String user) {
        return count(byUser.get(user), Kind.LINK);
    }

    /** {@return every registered tunnel and idle link, of all users (tests check it returns to zero)} */
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
