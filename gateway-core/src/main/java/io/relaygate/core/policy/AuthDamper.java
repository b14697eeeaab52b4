package io.relaygate.core.policy;

import io.relaygate.core.policy.LogText;
import io.relaygate.core.policy.LogBudget;
import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brute-force damping that slows an attacker without locking out the owner. Failed logins are counted per source
 * address and per user in a one-minute window:
 * <ul>
 *   <li>a <em>source</em> past the first threshold gets its answers a second late, past the second it is refused
 *       unchecked: an address can only lock itself out;</li>
 *   <li>a <em>user</em> past twice the first threshold gets answers a second late, and is never refused: failures
 *       sent from many addresses cost the owner a delay at most;</li>
 *   <li>a source that authenticated as that user within the last day (a known device) skips the per-user delay, so
 *       the owner's own gateway keeps logging in at full speed while the user is under attack.</li>
 * </ul>
 * What damping did is logged at most once a minute with counts ({@link #reportIfDue}): at once when damping starts,
 * then each minute it goes on. Thread-safe.
 */
public final class AuthDamper {

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.auth");

    /** What to do with an authentication attempt. */
    public enum Verdict { ALLOW, DELAY, REFUSE }

    /** The delay a damped attempt waits before its answer. */
    public static final long DELAY_NANOS = 1_000_000_000L;
    private static final long WINDOW_NANOS = 60_000_000_000L;
    private static final long KNOWN_DEVICE_NANOS = 24 * 3600 * 1_000_000_000L;
    private static final int MAX_ENTRIES = 100_000;

    private record Device(String user, InetAddress source) {
    }

    private volatile int delayAfter;
    private volatile int refuseAfter;
    private final ConcurrentHashMap<Object, long[]> failures = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Device, Long> knownDevices = new ConcurrentHashMap<>();
    /** Failed logins are worth a log line each, until someone floods them: then a few a minute, and a count. */
    private final LogBudget logLines = new LogBudget(30);
    private final LongAdder failed = new LongAdder();
    private final LongAdder delayed = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder knownDeviceLogins = new LongAdder();
    private final AtomicLong lastReport = new AtomicLong(System.nanoTime() - WINDOW_NANOS);

    /**
     * @param delayAfter  failures per address in a minute before answers are delayed (per user: twice as many);
     *                    0 turns damping off
     * @param refuseAfter failures per address in a minute before that address is refused unchecked
     */
    public AuthDamper(int delayAfter, int refuseAfter) {
        reconfigure(delayAfter, refuseAfter);
    }

    /** Changes both thresholds (a reload); the failures counted so far stay. */
    public void reconfigure(int failuresBeforeDelay, int failuresBeforeRefusal) {
        this.delayAfter = failuresBeforeDelay;
        this.refuseAfter = failuresBeforeRefusal;
    }

    /** {@return -1 if a failed login must not be logged now, else how many were held back before it} */
    public long logAllowance() {
        return logLines.take();
    }

    /** {@return what to do with an attempt from {@code source} for {@code user} (null if not yet known)} */
    public Verdict check(InetAddress source, String user) {
        if (delayAfter <= 0) {
            return Verdict.ALLOW;
        }
        long now = System.nanoTime();
        int bySource = count(source, now);
        if (bySource >= refuseAfter) {
            refused.increment();
            reportIfDue(now);
            return Verdict.REFUSE;
        }
        if (bySource >= delayAfter) {
            delayed.increment();
            reportIfDue(now);
            return Verdict.DELAY;
        }
        if (user != null && count(userKey(user), now) >= 2 * delayAfter) {
            if (isKnownDevice(source, user, now)) {
                knownDeviceLogins.increment();
                return Verdict.ALLOW;
            }
            delayed.increment();
            reportIfDue(now);
            return Verdict.DELAY;
        }
        return Verdict.ALLOW;
    }

    /**
     * {@return whether {@code source} is refused outright, before its user is known} (the remote asks this before an
     * account lookup, so a refused address costs no JDBC; {@link #check} follows for the rest)
     */
    public boolean refuses(InetAddress source) {
        if (delayAfter <= 0) {
            return false;
        }
        long now = System.nanoTime();
        if (count(source, now) >= refuseAfter) {
            refused.increment();
            reportIfDue(now);
            return true;
        }
        return false;
    }

    /** Logs what damping did, at most once a minute: at once when it starts, then with the counts of each minute. */
    public void reportIfDue(long now) {
        long last = lastReport.get();
        if (now - last >= WINDOW_NANOS && lastReport.compareAndSet(last, now)) {
            report();
        }
    }

    /** Counts a failed attempt. */
    public void failed(InetAddress source, String user) {
        if (delayAfter <= 0) {
            return;
        }
        long now = System.nanoTime();
        failed.increment();
        increment(source, now);
        if (user != null) {
            increment(userKey(user), now);
        }
        if (failures.size() > MAX_ENTRIES) {
            failures.entrySet().removeIf(e -> now - e.getValue()[1] > WINDOW_NANOS);
        }
    }

    /** Remembers that {@code source} proved it knows {@code user}'s password: a known device for a day. */
    public void succeeded(InetAddress source, String user) {
        if (delayAfter <= 0) {
            return;
        }
        long now = System.nanoTime();
        if (knownDevices.size() >= MAX_ENTRIES) {
            knownDevices.values().removeIf(t -> now - t > KNOWN_DEVICE_NANOS);
            if (knownDevices.size() >= MAX_ENTRIES) {
                knownDevices.clear();
            }
        }
        knownDevices.put(new Device(user, source), now);
    }

    /** Logs what damping did since the last report, if anything. */
    private void report() {
        long failedLogins = failed.sumThenReset();
        long delayedAnswers = delayed.sumThenReset();
        long refusedAttempts = refused.sumThenReset();
        long knownDevicesLetThrough = knownDeviceLogins.sumThenReset();
        if (failedLogins == 0 && delayedAnswers == 0 && refusedAttempts == 0) {
            return;
        }
        long now = System.nanoTime();
        String mostTargeted = null;
        long most = 0;
        int users = 0;
        int sources = 0;
        for (Map.Entry<Object, long[]> entry : failures.entrySet()) {
            if (now - entry.getValue()[1] > WINDOW_NANOS) {
                continue;
            }
            if (entry.getKey() instanceof String key) {
                users++;
                if (entry.getValue()[0] > most) {
                    most = entry.getValue()[0];
                    mostTargeted = key.substring(USER_PREFIX.length());
                }
            } else {
                sources++;
            }
        }
        log.info("login damping: {} failed logins since the last report ({} users, {} sources); {} answers delayed,"
                + " {} attempts refused per source, {} logins from known devices let through{}", failedLogins, users,
                sources, delayedAnswers, refusedAttempts, knownDevicesLetThrough,
                mostTargeted == null ? "" : "; most failures for user " + LogText.escape(mostTargeted) + " (" + most
                        + ")");
    }

    private boolean isKnownDevice(InetAddress source, String user, long now) {
        Long since = knownDevices.get(new Device(user, source));
        return since != null && now - since <= KNOWN_DEVICE_NANOS;
    }

    private static final String USER_PREFIX = "user:";

    private static String userKey(String user) {
        return USER_PREFIX + user;
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
