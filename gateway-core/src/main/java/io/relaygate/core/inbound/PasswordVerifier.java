package io.relaygate.core.inbound;

import io.relaygate.core.policy.LogBudget;
import io.relaygate.core.policy.LogText;
import io.relaygate.spi.Account;
import io.relaygate.spi.AuthResult;
import io.relaygate.spi.ScramCredential;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.concurrent.atomic.LongAdder;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies plaintext passwords (RFC 1929, HTTP Basic) against an account store's SCRAM material. Blocking and
 * CPU-bound: runs on the blocking executor only. Thread-safe.
 * <p>
 * A key derivation per login would cap a plaintext listener at a few logins a second per core, so a verified
 * (user, password) pair is remembered for a minute: under an HMAC of both with a secret of this process, never the
 * password itself, and only while the account's credential is the one it was verified against.
 */
public final class PasswordVerifier {

    private static final Logger log = LoggerFactory.getLogger(PasswordVerifier.class);

    /** Used for unknown users, so that they cost the same key derivation as a wrong password. */
    private static final byte[] DECOY_SALT = "relaygate-decoy-salt".getBytes(StandardCharsets.US_ASCII);
    private static final long CACHE_NANOS = 60_000_000_000L;
    private static final int CACHE_MAX = 10_000;

    private record Verified(long expiresAt, byte[] storedKey) {
    }

    private final Function<String, Optional<Account>> accounts;
    private final Function<Account, String> refusals;
    private final Consumer<Account> loggedIn;
    private final byte[] cacheSecret = new byte[32];
    private final ConcurrentHashMap<String, Verified> verified = new ConcurrentHashMap<>();
    private final LongAdder derivations = new LongAdder();
    /** Every login fails while the store is away: a few lines a minute say so, not one per client. */
    private final LogBudget storeFailures = new LogBudget(6);
    private volatile int decoyIterations = 4096;

    /**
     * @param accounts looks a user up (blocking), or {@code null} when no store is configured (every password is
     *                 refused)
     * @param refusals why an account may not log in now ({@code "disabled user"}, {@code "expired user"}), or null
     * @param loggedIn told each accepted user's account, on the verifying thread
     */
    public PasswordVerifier(Function<String, Optional<Account>> accounts, Function<Account, String> refusals,
                            Consumer<Account> loggedIn) {
        this.accounts = accounts;
        this.refusals = refusals;
        this.loggedIn = loggedIn;
        new SecureRandom().nextBytes(cacheSecret);
    }

    /** {@return whether a store is configured, i.e. whether clients must authenticate} */
    public boolean enabled() {
        return accounts != null;
    }

    /** {@return key derivations done so far (tests, metrics)} */
    long derivations() {
        return derivations.sum();
    }

    /** Verifies {@code password} for {@code user}, then wipes it. */
    AuthResult verify(String user, byte[] password) {
        try {
            if (accounts == null) {
                return AuthResult.REJECTED;
            }
            Optional<Account> account = accounts.apply(user);
            if (account.isEmpty()) {
                derivations.increment();
                ScramCredential.derive(password, DECOY_SALT, decoyIterations);
                return AuthResult.REJECTED;
            }
            ScramCredential credential = account.get().credential();
            decoyIterations = credential.iterations();
            String refusal = refusals.apply(account.get());
            if (refusal != null) {
                derivations.increment();
                credential.verifies(password);      // the same work as any refusal
                log.debug("user {} refused: {}", LogText.escape(user), refusal);
                return AuthResult.REJECTED;
            }
            String cacheKey = cacheKey(user, password);
            byte[] storedKey = credential.storedKey();
            Verified hit = verified.get(cacheKey);
            if (hit != null && System.nanoTime() - hit.expiresAt() < 0
                    && MessageDigest.isEqual(hit.storedKey(), storedKey)) {
                loggedIn.accept(account.get());
                return AuthResult.OK;
            }
            derivations.increment();
            if (!credential.verifies(password)) {
                return AuthResult.REJECTED;
            }
            if (verified.size() >= CACHE_MAX) {
                long now = System.nanoTime();
                verified.values().removeIf(v -> now - v.expiresAt() >= 0);
                if (verified.size() >= CACHE_MAX) {
                    verified.clear();
                }
            }
            verified.put(cacheKey, new Verified(System.nanoTime() + CACHE_NANOS, storedKey));
            loggedIn.accept(account.get());
            return AuthResult.OK;
        } catch (RuntimeException e) {
            long dropped = storeFailures.take();
            if (dropped >= 0) {
                log.warn("the account store failed to answer: {}{}", e.toString(), LogBudget.note(dropped));
            }
            return AuthResult.UNAVAILABLE;
        } finally {
            Arrays.fill(password, (byte) 0);
        }
    }

    private String cacheKey(String user, byte[] password) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(cacheSecret, "HmacSHA256"));
            mac.update(user.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            mac.update(password);
            return HexFormat.of().formatHex(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }
}
