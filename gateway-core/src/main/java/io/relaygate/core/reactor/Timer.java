package io.relaygate.core.reactor;

/**
 * A task scheduled on an event loop. Confined to that loop: cancel it from the loop's thread.
 */
public final class Timer {

    final long deadline;
    final long sequence;
    final Runnable task;
    /** Position in the loop's {@link TimerHeap}, or -1 once it has fired or been cancelled. */
    int index = -1;
    private TimerHeap heap;

    Timer(long deadline, long sequence, Runnable task, TimerHeap heap) {
        this.deadline = deadline;
        this.sequence = sequence;
        this.task = task;
        this.heap = heap;
    }

    /**
     * Prevents the task from running and forgets it at once (a tunnel's 15-minute idle timer must not outlive the
     * tunnel by 15 minutes). Idempotent.
     */
    public void cancel() {
        if (heap != null) {
            heap.remove(this);
            heap = null;
        }
    }

    void fired() {
        heap = null;
    }

    boolean before(Timer other) {
        long difference = deadline - other.deadline;
        return difference != 0 ? difference < 0 : sequence < other.sequence;
    }
}
