package io.relaygate.ratelimitredis;

import io.relaygate.spi.RateLimiter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Threads that take a bucket's bytes as fast as it grants them, the way a tunnel direction's throttle does: take what
 * is there, else reserve a share and sleep until it falls due (a loop timer's wait). Counts what they took.
 */
final class Readers implements AutoCloseable {

    /** Small, as a socket read under a low rate is: the counts then move in small steps at a window's edges. */
    private static final long WANTED = 16 * 1024;

    private final AtomicLong taken = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    Readers(RateLimiter.Bucket bucket, int count) {
        for (int i = 0; i < count; i++) {
            Thread thread = new Thread(() -> read(bucket), "reader-" + i);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
    }

    private void read(RateLimiter.Bucket bucket) {
        try {
            while (running) {
                long granted = bucket.tryAcquire(WANTED);
                if (granted == 0) {
                    granted = Math.min(WANTED, bucket.reservationSize());
                    long wait = bucket.reserve(granted);
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                }
                taken.addAndGet(granted);
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    long taken() {
        Throwable t = failure.get();
        if (t != null) {
            throw new AssertionError("a reader failed", t);
        }
        return taken.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread thread : threads) {
            thread.join(5_000);
        }
    }
}
