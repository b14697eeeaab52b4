package io.relaygate.core.tunnel;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Brute-force damping: failed authentications are counted per source address and per user in a one-minute
 * window; past the first threshold each further attempt is answered a second late, past the second it is refused
 * without being checked. Per-user thresholds are twice the per-address ones, so one address cannot lock a user out
 * as cheaply as it can lock itself out. Thread-safe.
 */
public final class AuthDamper {

    /** What to do with an authentication attempt. */
    public enum Verdict { ALLOW, DELAY, REFUSE }

    /** The delay a damped attempt waits before its answer. */
    public static final long DELAY_NANOS = 1_000_000_000L;
    private static final long WINDOW_NANOS = 60_000_000_000L;

    private final int delayAfter;
    private final int refuseAfter;
    private final ConcurrentHashMap<Object, long[]> failures = new ConcurrentHashMap<>();

    /**
     * @param delayAfter  failures per address in a minute before answers are delayed; 0 turns damping off
     * @param refuseAfter failures per address in a minute before attempts are refused unchecked
     */
    /** Failed logins are worth a log line each, until someone floods them: then a few a minute, and a count. */
    private final LogBudget logLines = new LogBudget(30);

    /** {@return -1 if a failed login must not be logged now, else how many were held back before it} */
    long logAllowance() {
        return logLines.take();
    }

    public AuthDamper(int delayAfter, int refuseAfter) {
        this.delayAfter = delayAfter;
        this.refuseAfter = refuseAfter;
    }

    /** {@return what to do with an attempt from {@code source} for {@code user} (null if not yet known)} */
    public Verdict check(InetAddress source, String user) {
        if (delayAfter <= 0) {
            return Verdict.ALLOW;
        }
        long now = System.nanoTime();
        int bySource = count(source, now);
        int byUser = user == null ? 0 : count("user:" + user, now);
        if (bySource >= refuseAfter || byUser >= 2 * refuseAfter) {
            return Verdict.REFUSE;
        }
        if (bySource >= delayAfter || byUser >= 2 * delayAfter) {
            return Verdict.DELAY;
        }
        return Verdict.ALLOW;
    }

    /** Counts a failed attempt. */
    public void failed(InetAddress source, String user) {
        if (delayAfter <= 0) {
            return;
        }
        long now = System.nanoTime();
        increment(source, now);
        if (user != null) {
            increment("user:" + user, now);
        }
        if (failures.size() > 100_000) {
            failures.entrySet().removeIf(e -> now - e.getValue()[1] > WINDOW_NANOS);
        }
    }

    private int count(Object key, long now) {
        long[] entry = failures.get(key);
        return entry == null || now - entry[1] > WINDOW_NANOS ? 0 : (int) entry[0];
    }

    private void increment(Object key, long now) {
        failures.compute(key, (k, entry) -> entry == null || now - entry[1] > WINDOW_NANOS
                ? new long[] {1, now} : new long[] {entry[0] + 1, entry[1]});
    }
}
