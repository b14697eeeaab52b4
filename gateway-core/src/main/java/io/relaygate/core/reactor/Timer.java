package io.relaygate.core.reactor;

/**
 * A task scheduled on an event loop. Confined to that loop: cancel it from the loop's thread.
 */
public final class Timer implements Comparable<Timer> {

    final long deadline;
    final long sequence;
    final Runnable task;
    boolean cancelled;

    Timer(long deadline, long sequence, Runnable task) {
        this.deadline = deadline;
        this.sequence = sequence;
        this.task = task;
    }

    /** Prevents the task from running; idempotent. The entry leaves the loop's queue when it falls due. */
    public void cancel() {
        cancelled = true;
    }

    @Override
    public int compareTo(Timer other) {
        int byDeadline = Long.compare(deadline - other.deadline, 0);
        return byDeadline != 0 ? byDeadline : Long.compare(sequence, other.sequence);
    }
}
