package io.relaygate.core.wire;

import io.relaygate.spi.ScramCredential;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The local's side of the link authentication: hello, proof, and the check that the remote knows the user's
 * ServerKey. One instance per link connection; not thread-safe. {@link #proof} derives the key (PBKDF2): call it off
 * the event loop.
 */
public final class ScramClient {

    private final LinkCredentials credentials;
    private final boolean channelBound;
    private final byte[] hello;
    private byte[] authMessage;
    private byte[] serverKey;

    /** A client for one exchange; the password is copied (wipe yours when this returns). */
    public ScramClient(String user, byte[] password, SecureRandom random) {
        this(new LinkCredentials(user, password), random);
    }

    /** A client for one exchange over a plaintext link that shares the derived keys of {@code credentials}. */
    public ScramClient(LinkCredentials credentials, SecureRandom random) {
        this(credentials, random, false);
    }

    /**
     * A client for one exchange that shares the derived keys of {@code credentials}.
     *
     * @param channelBound whether the link runs over TLS: the proofs then cover the remote's certificate
     */
    public ScramClient(LinkCredentials credentials, SecureRandom random, boolean channelBound) {
        this.credentials = credentials;
        this.channelBound = channelBound;
        byte[] user = credentials.user().getBytes(StandardCharsets.UTF_8);
        if (user.length < 1) {
            throw new IllegalArgumentException("user name: 1 to 255 bytes");
        }
        byte[] nonce = new byte[Scram.NONCE_BYTES];
        random.nextBytes(nonce);
        this.hello = ByteBuffer.allocate(1 + user.length + Scram.NONCE_BYTES + 1).put((byte) user.length)
                .put(user).put(nonce).put((byte) (channelBound ? Scram.BINDING_TLS_SERVER_END_POINT
                        : Scram.BINDING_NONE)).array();
    }

    /** {@return the CLIENT_HELLO payload} */
    public byte[] hello() {
        return hello.clone();
    }

    /**
     * Answers the SERVER_CHALLENGE.
     *
     * @return the CLIENT_PROOF payload
     * @throws LinkProtocolException if the challenge is malformed
     */
    public byte[] proof(ByteBuffer challenge) throws LinkProtocolException {
        return proof(challenge, null);
    }

    /**
     * Answers the SERVER_CHALLENGE of a link that runs over TLS.
     *
     * @param channelBinding the {@code tls-server-end-point} hash of the certificate the remote presented; null
     *                       for a plaintext link
     * @return the CLIENT_PROOF payload
     * @throws LinkProtocolException if the challenge is malformed
     */
    public byte[] proof(ByteBuffer challenge, byte[] channelBinding) throws LinkProtocolException {
        if (channelBound != (channelBinding != null)) {
            throw new IllegalStateException("channel binding " + (channelBound ? "announced but missing"
                    : "given to an unbound exchange"));
        }
        byte[] challengeBytes = new byte[challenge.remaining()];
        challenge.duplicate().get(challengeBytes);
        byte[] salt;
        int iterations;
        try {
            int saltLength = challenge.get() & 0xFF;
            salt = new byte[saltLength];
            challenge.get(salt);
            iterations = challenge.getInt();
            challenge.get(new byte[Scram.NONCE_BYTES]);
        } catch (BufferUnderflowException e) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "truncated SERVER_CHALLENGE");
        }
        if (challenge.hasRemaining() || salt.length < ScramCredential.MIN_SALT_BYTES || iterations < 1) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed SERVER_CHALLENGE");
        }
        authMessage = Scram.authMessage(hello, challengeBytes, channelBinding);
        LinkCredentials.Keys keys = credentials.keys(salt, iterations);
        serverKey = keys.serverKey();
        byte[] signature = Scram.hmac(keys.storedKey(), authMessage);
        byte[] proof = Scram.xor(keys.clientKey(), signature);
        Arrays.fill(keys.clientKey(), (byte) 0);
        return proof;
    }

    /**
     * Checks the SERVER_OUTCOME, reading its status and signature; what the link adds after them stays unread.
     *
     * @return whether the remote accepted us and proved it knows our ServerKey
     */
    public boolean accepted(ByteBuffer outcome) {
        if (authMessage == null || outcome.remaining() < 1 + Scram.KEY_BYTES || outcome.get() != 0) {
            return false;
        }
        byte[] signature = new byte[Scram.KEY_BYTES];
        outcome.get(signature);
        return MessageDigest.isEqual(signature, Scram.hmac(serverKey, authMessage));
    }
}
