package io.relaygate.spi;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 credential material (RFC 5802 §3, RFC 7677): what a store keeps instead of a password. Neither key
 * lets anyone recover the password or log in without it. Immutable (the arrays are copied in and out).
 * Passwords are bytes, UTF-8 by convention, used as given (no SASLprep).
 */
public final class ScramCredential {

    /** The smallest salt this class accepts. */
    public static final int MIN_SALT_BYTES = 16;

    private final byte[] salt;
    private final int iterations;
    private final byte[] storedKey;
    private final byte[] serverKey;

    /**
     * @throws IllegalArgumentException if the salt is shorter than {@value #MIN_SALT_BYTES} bytes, the iteration
     *                                  count is below 1 or a key is not 32 bytes
     */
    public ScramCredential(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
        if (salt.length < MIN_SALT_BYTES) {
            throw new IllegalArgumentException("salt: " + salt.length + " bytes (expected: >= " + MIN_SALT_BYTES + ")");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations: " + iterations + " (expected: >= 1)");
        }
        if (storedKey.length != 32 || serverKey.length != 32) {
            throw new IllegalArgumentException("keys must be 32 bytes (SHA-256)");
        }
        this.salt = salt.clone();
        this.iterations = iterations;
        this.storedKey = storedKey.clone();
        this.serverKey = serverKey.clone();
    }

    /**
     * Derives the material for a password with a fresh random salt. CPU-bound on purpose (PBKDF2): call it off the
     * event loop.
     */
    public static ScramCredential create(byte[] password, int iterations, SecureRandom random) {
        byte[] salt = new byte[MIN_SALT_BYTES];
        random.nextBytes(salt);
        return derive(password, salt, iterations);
    }

    /** Derives the material for a password with a given salt. CPU-bound on purpose: call it off the event loop. */
    public static ScramCredential derive(byte[] password, byte[] salt, int iterations) {
        byte[] salted = saltedPassword(password, salt, iterations);
        try {
            byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
            byte[] serverKey = hmac(salted, "Server Key".getBytes(StandardCharsets.US_ASCII));
            byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
            return new ScramCredential(salt, iterations, storedKey, serverKey);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        } finally {
            Arrays.fill(salted, (byte) 0);
        }
    }

    /**
     * {@return ClientKey = HMAC(SaltedPassword, "Client Key"), what a SCRAM client proves knowledge of} CPU-bound on
     * purpose: call it off the event loop.
     */
    public static byte[] clientKey(byte[] password, byte[] salt, int iterations) {
        byte[] salted = saltedPassword(password, salt, iterations);
        try {
            return hmac(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        } finally {
            Arrays.fill(salted, (byte) 0);
        }
    }

    /**
     * Verifies a plaintext password (RFC 1929, HTTP Basic) against this material in constant time. CPU-bound on
     * purpose: call it off the event loop.
     */
    public boolean verifies(byte[] password) {
        ScramCredential candidate = derive(password, salt, iterations);
        return MessageDigest.isEqual(candidate.storedKey, storedKey);
    }

    /** PBKDF2-HMAC-SHA-256 with a 32-byte output (RFC 8018 §5.2), over the password's raw bytes. */
    static byte[] saltedPassword(byte[] password, byte[] salt, int iterations) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            // An empty key is legal for HMAC but not for SecretKeySpec; passwords are never empty (1..1024 bytes).
            mac.init(new SecretKeySpec(password.length == 0 ? new byte[1] : password, "HmacSHA256"));
            mac.update(salt);
            mac.update(new byte[] {0, 0, 0, 1});
            byte[] u = mac.doFinal();
            byte[] result = u.clone();
            for (int i = 1; i < iterations; i++) {
                u = mac.doFinal(u);
                for (int j = 0; j < result.length; j++) {
                    result[j] ^= u[j];
                }
            }
            return result;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }

    /** {@return a copy of the salt} */
    public byte[] salt() {
        return salt.clone();
    }

    /** {@return the PBKDF2 iteration count} */
    public int iterations() {
        return iterations;
    }

    /** {@return a copy of StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key"))} */
    public byte[] storedKey() {
        return storedKey.clone();
    }

    /** {@return a copy of ServerKey = HMAC(SaltedPassword, "Server Key")} */
    public byte[] serverKey() {
        return serverKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramCredential other && iterations == other.iterations
                && Arrays.equals(salt, other.salt) && Arrays.equals(storedKey, other.storedKey)
                && Arrays.equals(serverKey, other.serverKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(iterations, Arrays.hashCode(salt), Arrays.hashCode(storedKey));
    }

    /** Never prints key material. */
    @Override
    public String toString() {
        return "ScramCredential[iterations=" + iterations + "]";
    }
}
