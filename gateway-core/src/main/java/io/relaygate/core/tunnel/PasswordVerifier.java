package io.relaygate.core.tunnel;

import io.relaygate.spi.Account;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AuthResult;
import io.relaygate.spi.ScramCredential;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies plaintext passwords (RFC 1929, HTTP Basic) against an account store's SCRAM material. Blocking and
 * CPU-bound: runs on the blocking executor only. Thread-safe.
 */
public final class PasswordVerifier {

    private static final Logger log = LoggerFactory.getLogger(PasswordVerifier.class);

    /** Used for unknown users, so that they cost the same key derivation as a wrong password. */
    private static final byte[] DECOY_SALT = "relaygate-decoy-salt".getBytes(StandardCharsets.US_ASCII);

    private final AccountStore store;
    private volatile int decoyIterations = 4096;

    /** @param store the accounts, or {@code null} when no store is configured (every password is refused) */
    public PasswordVerifier(AccountStore store) {
        this.store = store;
    }

    /** {@return whether a store is configured, i.e. whether clients must authenticate} */
    public boolean enabled() {
        return store != null;
    }

    /** Verifies {@code password} for {@code user}, then wipes it. */
    AuthResult verify(String user, byte[] password) {
        try {
            if (store == null) {
                return AuthResult.REJECTED;
            }
            Optional<Account> account = store.find(user);
            if (account.isEmpty()) {
                ScramCredential.derive(password, DECOY_SALT, decoyIterations);
                return AuthResult.REJECTED;
            }
            ScramCredential credential = account.get().credential();
            decoyIterations = credential.iterations();
            boolean ok = credential.verifies(password);
            return ok && account.get().enabled() ? AuthResult.OK : AuthResult.REJECTED;
        } catch (RuntimeException e) {
            log.warn("the account store failed to answer: {}", e.toString());
            return AuthResult.UNAVAILABLE;
        } finally {
            Arrays.fill(password, (byte) 0);
        }
    }
}
