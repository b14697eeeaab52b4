package io.relaygate.core.policy;

/**
 * How many lines of one kind may reach the log each minute, so that a flood of hostile attempts cannot flood the
 * log too; what is held back is counted and reported with the next line allowed. Thread-safe.
 */
public final class LogBudget {

    private static final long MINUTE_NANOS = 60_000_000_000L;

    private final int perMinute;
    private long windowStart = System.nanoTime();
    private int used;
    private long suppressed;

    public LogBudget(int perMinute) {
        this.perMinute = perMinute;
    }

    /**
     * {@return -1 if this line must be dropped; else how many were dropped since the last line allowed (0 or more),
     * which the caller should mention}
     */
    public synchronized long take() {
        long now = System.nanoTime();
        if (now - windowStart >= MINUTE_NANOS) {
            windowStart = now;
            used = 0;
        }
        if (used >= perMinute) {
            suppressed++;
            return -1;
        }
        used++;
        long dropped = suppressed;
        suppressed = 0;
        return dropped;
    }

    /** {@return the note to append to an allowed line: empty, or how many similar lines were held back} */
    public static String note(long dropped) {
        return dropped == 0 ? "" : " (" + dropped + " similar lines suppressed)";
    }
}
