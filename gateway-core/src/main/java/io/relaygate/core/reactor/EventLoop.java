package io.relaygate.core.reactor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Iterator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread with its own selector, task queue and timers.
 * <p>
 * Everything registered with a loop (keys, timers, the handlers' state) belongs to its thread. Other threads reach
 * it only through {@link #execute(Runnable)}: a JCTools MPSC queue plus a {@code selector.wakeup()} that is
 * coalesced, because a wakeup is a system call and many producers may post at once.
 */
public final class EventLoop implements Executor {

    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

    /** Tasks run per iteration at most, so a flood of posted work cannot starve I/O. */
    private static final int MAX_TASKS_PER_ITERATION = 1024;

    private final Selector selector;
    private final MessagePassingQueue<Runnable> tasks = new MpscUnboundedXaddArrayQueue<>(1024);
    /** True while the loop is awake or a wakeup is already on its way; producers only wake a sleeping loop. */
    private final AtomicBoolean awake = new AtomicBoolean(true);
    private final TimerHeap timers = new TimerHeap();
    private final Thread thread;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile boolean running = true;
    private long timerSequence;
    private long now;

    /** Creates and starts a loop. */
    public EventLoop(String name) {
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector", e);
        }
        this.now = System.nanoTime();
        this.thread = new Thread(this::run, name);
        thread.start();
    }

    /** Runs {@code task} on this loop, soon. Thread-safe; tasks run in the order they were posted. */
    @Override
    public void execute(Runnable task) {
        tasks.offer(task);
        if (Thread.currentThread() != thread && !awake.get() && awake.compareAndSet(false, true)) {
            selector.wakeup();
        }
    }

    /** {@return whether the caller runs on this loop's thread} */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** {@return the time at the start of the current iteration, in {@link System#nanoTime()} units; loop only} */
    public long now() {
        return now;
    }

    /** {@return timers scheduled and neither fired nor cancelled; loop only} */
    public int pendingTimers() {
        return timers.size();
    }

    /** Schedules {@code task} on this loop after {@code delayNanos}. Loop only. */
    public Timer schedule(long delayNanos, Runnable task) {
        Timer timer = new Timer(System.nanoTime() + delayNanos, timerSequence++, task, timers);
        timers.add(timer);
        return timer;
    }

    /** Registers a channel with this loop's selector. Loop only. */
    public SelectionKey register(SelectableChannel channel, int ops, IoHandler handler) throws ClosedChannelException {
        return channel.register(selector, ops, handler);
    }

    /**
     * Tells every handler registered with this loop that it failed with {@code cause}, so each closes what it owns.
     * Loop only; used at shutdown, after the drain deadline.
     */
    public void failAll(Throwable cause) {
        for (SelectionKey key : java.util.List.copyOf(selector.keys())) {
            if (key.isValid() && key.attachment() instanceof IoHandler handler) {
                try {
                    handler.failed(cause);
                } catch (RuntimeException e) {
                    log.debug("closing a handler at shutdown", e);
                }
            }
        }
    }

    /** Asks the loop to stop after its current iteration; {@link #awaitTermination} waits for it. Thread-safe. */
    public void shutdown() {
        running = false;
        selector.wakeup();
    }

    /** {@return whether the loop stopped within the timeout} */
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminated.await(timeout, unit);
    }

    private void run() {
        try {
            while (running) {
                try {
                    select();
                    now = System.nanoTime();
                    processSelectedKeys();
                    runTimers();
                    runTasks();
                } catch (Throwable t) {
                    if (t instanceof VirtualMachineError error) {
                        throw error;
                    }
                    // The loop must outlive any bug in one iteration; the handler's own failure is already contained.
                    log.warn("{}: unexpected error in the event loop, continuing", thread.getName(), t);
                }
            }
        } finally {
            // Tasks posted before shutdown() still run (the gateway posts its final close-all that way).
            tasks.drain(EventLoop::runSafely);
            closeSelector();
            terminated.countDown();
        }
    }

    /**
     * Lets the selector drop the keys cancelled so far, so that their closed channels release their sockets now
     * rather than at the next select. Ready keys it finds are handled in the next iteration as usual. Loop thread
     * only.
     */
    public void flushCancelledKeys() throws IOException {
        selector.selectNow();
    }

    private void select() throws IOException {
        if (!tasks.isEmpty()) {
            selector.selectNow();
            return;
        }
        awake.set(false);
        // Re-check after publishing that we may sleep: a producer that saw awake == true skipped the wakeup.
        if (!tasks.isEmpty()) {
            awake.set(true);
            selector.selectNow();
            return;
        }
        Timer next = timers.peek();
        if (next == null) {
            selector.select();
        } else {
            long waitNanos = next.deadline - System.nanoTime();
            if (waitNanos <= 0) {
                selector.selectNow();
            } else {
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos + 999_999)));
            }
        }
        awake.set(true);
    }

    private void processSelectedKeys() {
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
            SelectionKey key = it.next();
            it.remove();
            IoHandler handler = (IoHandler) key.attachment();
            try {
                if (key.isValid()) {
                    handler.ready(key);
                }
            } catch (Throwable t) {
                if (t instanceof VirtualMachineError error) {
                    throw error;
                }
                handler.failed(t);
            }
        }
    }

    private void runTimers() {
        Timer timer;
        while ((timer = timers.peek()) != null && timer.deadline - now <= 0) {
            timers.poll();
            timer.fired();
            runSafely(timer.task);
        }
    }

    private void runTasks() {
        tasks.drain(EventLoop::runSafely, MAX_TASKS_PER_ITERATION);
    }

    private static void runSafely(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError error) {
                throw error;
            }
            log.warn("a task on the event loop failed", t);
        }
    }

    private void closeSelector() {
        for (SelectionKey key : selector.keys()) {
            try {
                key.channel().close();
            } catch (IOException e) {
                log.debug("closing a channel at loop shutdown", e);
            }
        }
        try {
            selector.close();
        } catch (IOException e) {
            log.debug("closing the selector", e);
        }
    }
}
