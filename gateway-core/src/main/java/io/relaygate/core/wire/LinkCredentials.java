package io.relaygate.core.wire;

import io.relaygate.spi.ScramCredential;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The local's account on the remote: the user, the password, and the keys derived from it for the remote's salt,
 * cached as RFC 5802 §5.1 allows, so that only the first link pays for the key derivation. Thread-safe.
 */
public final class LinkCredentials {

    private final String user;
    private final byte[] password;
    private byte[] cachedSalt;
    private int cachedIterations;
    private byte[] clientKey;
    private ScramCredential derived;

    /** @param password copied; wipe yours when this returns */
    public LinkCredentials(String user, byte[] password) {
        if (user.getBytes(StandardCharsets.UTF_8).length > 255) {
            throw new IllegalArgumentException("user name longer than 255 bytes");
        }
        this.user = user;
        this.password = password.clone();
    }

    public String user() {
        return user;
    }

    /** Derived keys for one salt and iteration count. */
    record Keys(byte[] clientKey, byte[] storedKey, byte[] serverKey) {
    }

    /** {@return the keys for this salt; derives them (PBKDF2, slow) unless cached} */
    synchronized Keys keys(byte[] salt, int iterations) {
        if (!Arrays.equals(salt, cachedSalt) || iterations != cachedIterations) {
            derived = ScramCredential.derive(password, salt, iterations);
            clientKey = ScramCredential.clientKey(password, salt, iterations);
            cachedSalt = salt.clone();
            cachedIterations = iterations;
        }
        return new Keys(clientKey.clone(), derived.storedKey(), derived.serverKey());
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "LinkCredentials[" + user + "]";
    }
}
