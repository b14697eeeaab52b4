package io.relaygate.spi;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * User accounts: credential material, attributes and traffic counters by user name. Stores hold no password and
 * nothing reversible, only {@link ScramCredential}s; the gateway verifies passwords itself.
 * <p>
 * Methods may block: the gateway calls them only on its blocking executor. Implementations are thread-safe. Every
 * method throws {@link AccountStoreException} when the store cannot be reached; a write that returned normally is
 * durable.
 */
public interface AccountStore extends AutoCloseable {

    /**
     * Looks up a user.
     *
     * @param name the user name exactly as the client sent it (case-sensitive; may hold any character, so use it
     *             only as a parameter, never in SQL text or a log line unescaped)
     * @return the account, or empty if there is no such user
     */
    Optional<Account> find(String name);

    /** {@return every account, by name} */
    default List<Account> list() {
        throw new UnsupportedOperationException("this account store cannot list");
    }

    /**
     * {@return how many accounts use each PBKDF2 iteration count} The remote shows unknown names counts drawn from
     * this distribution, so that they look like real accounts. The default counts {@link #list()}; a store with many
     * accounts should answer with one aggregate query. An empty map when the store cannot list.
     */
    default Map<Integer, Long> iterationCounts() {
        try {
            Map<Integer, Long> counts = new java.util.HashMap<>();
            for (Account account : list()) {
                counts.merge(account.credential().iterations(), 1L, Long::sum);
            }
            return counts;
        } catch (UnsupportedOperationException e) {
            return Map.of();
        }
    }

    /**
     * Creates an account.
     *
     * @throws AccountExistsException if the name is taken
     */
    default Account create(Account account) {
        throw new UnsupportedOperationException("this account store is read-only");
    }

    /** {@return the account after the update, or empty if there is no such user} */
    default Optional<Account> update(String name, AccountUpdate update) {
        throw new UnsupportedOperationException("this account store is read-only");
    }

    /** {@return whether the user existed} */
    default boolean delete(String name) {
        throw new UnsupportedOperationException("this account store is read-only");
    }

    /**
     * Adds traffic to users' persisted counters, as increments (never totals), so several writers are safe: to their
     * totals and to their traffic on {@code day}, which quotas are counted from.
     *
     * @param day        the UTC day to count the traffic on (the day it was persisted)
     * @param increments bytes up and down ({@code long[2]}) by user name; unknown users are ignored
     */
    default void addTraffic(LocalDate day, Map<String, long[]> increments) {
    }

    /**
     * {@return the bytes up and down ({@code long[2]}) that {@code user} moved on {@code since} and every day after,
     * as persisted by {@link #addTraffic}} Zeros for an unknown user.
     *
     * @throws UnsupportedOperationException if the store keeps no traffic by day (then quotas cannot be enforced)
     */
    default long[] traffic(String user, LocalDate since) {
        throw new UnsupportedOperationException("this account store keeps no traffic by day");
    }

    /**
     * {@return the public port last granted to the exposed service {@code service} of {@code user}, if any} The
     * reverse tunnel gives a reconnecting local the same port back. The default keeps none.
     */
    default Optional<Integer> assignedPort(String user, String service) {
        return Optional.empty();
    }

    /**
     * Records that {@code port} is the public port of {@code user}'s service {@code service}: it replaces that
     * service's previous port and any other service's claim on the port. The default keeps nothing.
     */
    default void assignPort(String user, String service, int port) {
    }

    /**
     * Registers a listener for changes to accounts, including changes made by another process. Called on a thread
     * of the store's; listeners must be quick and must not throw.
     */
    default void addListener(Consumer<AccountChange> listener) {
    }

    /** Releases the store's resources. Called once, at shutdown. */
    @Override
    default void close() {
    }
}
