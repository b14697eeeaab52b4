package io.relaygate.core.wire;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The SCRAM-SHA-256 primitives both ends of the link use (RFC 5802 §3). */
final class Scram {

    static final int NONCE_BYTES = 24;
    static final int KEY_BYTES = 32;

    private Scram() {
    }

    static byte[] hmac(byte[] key, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            for (byte[] part : parts) {
                mac.update(part);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The CLIENT_HELLO's channel-binding type: none (a plaintext link). */
    static final int BINDING_NONE = 0;
    /** The CLIENT_HELLO's channel-binding type: {@code tls-server-end-point} (RFC 5929 §4.1). */
    static final int BINDING_TLS_SERVER_END_POINT = 1;

    /**
     * {@return the AuthMessage both proofs cover: the hello and the challenge, and over TLS the hash of the
     * certificate the local saw (RFC 5802 §6 channel binding), so a proof made through a man in the middle that
     * presented another certificate does not verify at the remote}
     */
    static byte[] authMessage(byte[] hello, byte[] challenge, byte[] channelBinding) {
        byte[] message = concat(hello, challenge);
        return channelBinding == null ? message : concat(message, channelBinding);
    }
}
