package io.relaygate.spi;

/**
 * Bandwidth limits by principal (a user on the remote, the whole proxy on the local). Before each read of a tunnel
 * direction the gateway asks the principal's {@link Bucket} for tokens and reads at most what it grants; with nothing
 * granted it reserves a share, clears that direction's read interest and resumes it from a loop timer when the
 * reservation falls due. Thread-safe: every event loop shares one limiter.
 */
public interface RateLimiter extends AutoCloseable {

    /**
     * {@return the bucket that all of {@code principal}'s connections share, created on first use, its rate set to
     * {@code bytesPerSecond}} Called off the event loops (at login, on an account change); never returns null.
     *
     * @param bytesPerSecond the principal's rate over both directions; 0 for unlimited
     */
    Bucket bucket(String principal, long bytesPerSecond);

    /** Forgets {@code principal}'s bucket (a deleted user). Connections still holding it keep working. */
    default void forget(String principal) {
    }

    /** Releases the limiter's resources. Called once, at shutdown. */
    @Override
    default void close() {
    }

    /**
     * One principal's allowance, in bytes over both directions. Lock-free and non-blocking: called on event loops,
     * from several at once, so it never blocks and never throws. A distributed implementation grants from a lease it
     * holds locally and refills that lease asynchronously.
     * <p>
     * Fairness: {@link #tryAcquire} grants only tokens nobody is waiting for; a caller that gets nothing
     * {@link #reserve reserves} and so queues behind earlier reservations, which shares the rate evenly between the
     * principal's connections.
     */
    interface Bucket {

        /**
         * {@return how many of {@code wanted} bytes may pass now, 0 to {@code wanted}; they are taken} Grants nothing
         * rather than less than {@code min(wanted, reservationSize())}, so that a caller never spins on dribbles.
         */
        long tryAcquire(long wanted);

        /**
         * Takes {@code bytes} now or in the future, behind every earlier reservation.
         *
         * @param bytes at most {@link #reservationSize()}
         * @return nanoseconds until the reserved bytes may pass; 0 if they may pass now
         */
        long reserve(long bytes);

        /** Gives back bytes granted or reserved but not used (a read returned fewer). */
        void refund(long bytes);

        /**
         * {@return the most one reservation should ask for: a few tens of milliseconds at the current rate, so a
         * waiting direction wakes often enough to share fairly and to follow a rate change quickly}
         */
        long reservationSize();

        /** Changes the rate (bytes per second, 0 unlimited) for every connection of the principal, at once. */
        void rate(long bytesPerSecond);

        /** {@return the current rate in bytes per second, 0 when unlimited} */
        long rate();
    }
}
