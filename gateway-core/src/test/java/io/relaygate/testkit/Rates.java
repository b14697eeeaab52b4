package io.relaygate.testkit;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/** Rates measured over windows of wall-clock time, for tests that hold a rate to a bound. */
public final class Rates {

    private Rates() {
    }

    /**
     * {@return how fast {@code counter} grew over the next {@code seconds}, per second} The wait is the window being
     * measured, not a synchronisation.
     */
    public static double measure(LongSupplier counter, double seconds) {
        long before = counter.getAsLong();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        for (long left; (left = end - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
        return (counter.getAsLong() - before) * 1e9 / (System.nanoTime() - start);
    }
}
