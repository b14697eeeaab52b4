package io.relaygate.spi;

/**
 * Bandwidth limits by principal (a user on the remote, the whole proxy on the local). The gateway asks a
 * principal's {@link Bucket} before each read of a tunnel direction and reads at most what it grants; with nothing
 * granted it parks that direction on a timer. Thread-safe: every event loop shares one limiter.
 */
public interface RateLimiter extends AutoCloseable {

    /**
     * {@return the bucket that all of {@code principal}'s connections share, created on first use}
     *
     * @param bytesPerSecond the principal's rate over both directions; 0 for unlimited
     */
    Bucket bucket(String principal, long bytesPerSecond);

    /** Releases the limiter's resources. Called once, at shutdown. */
    @Override
    default void close() {
    }

    /**
     * One principal's allowance. Lock-free and non-blocking: called on event loops, from several at once. A
     * distributed implementation grants from a lease it holds locally and refills asynchronously.
     */
    interface Bucket {

        /** {@return how many of {@code wanted} bytes may pass now, 0 to {@code wanted}; they are taken} */
        long tryAcquire(long wanted);

        /** {@return nanoseconds until at least {@code min(wanted, capacity)} bytes will be granted; 0 if now} */
        long nanosUntil(long wanted);

        /** Changes the rate (bytes per second, 0 unlimited) for every connection of the principal, at once. */
        void rate(long bytesPerSecond);

        /** {@return the current rate in bytes per second, 0 when unlimited} */
        long rate();
    }
}
