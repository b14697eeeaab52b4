package io.relaygate.spi;

import java.util.Optional;

/**
 * User accounts: credential material and attributes by user name. Stores hold no password and nothing
 * reversible, only {@link ScramCredential}s; the gateway verifies passwords itself.
 * <p>
 * Methods may block: the gateway calls them only on its blocking executor. Implementations are thread-safe.
 */
public interface AccountStore extends AutoCloseable {

    /**
     * Looks up a user.
     *
     * @param name the user name exactly as the client sent it (case-sensitive; may hold any character, so use it
     *             only as a parameter, never in SQL text or a log line unescaped)
     * @return the account, or empty if there is no such user
     * @throws AccountStoreException if the store cannot be read
     */
    Optional<Account> find(String name);

    /** Releases the store's resources. Called once, at shutdown. */
    @Override
    default void close() {
    }
}
