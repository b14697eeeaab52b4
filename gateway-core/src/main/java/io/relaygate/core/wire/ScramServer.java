package io.relaygate.core.wire;

import io.relaygate.spi.Account;
import io.relaygate.spi.ScramCredential;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.function.Function;

/**
 * The remote's side of the link authentication. Unknown and disabled users take the same path as known ones, with
 * material derived from the server secret (salt, keys, and an iteration count drawn from the real accounts' counts),
 * so neither the answer nor its timing tells whether a name exists or is disabled. One
 * instance per link connection; not thread-safe; {@link #challenge} looks the user up (JDBC): call it off the loop.
 */
public final class ScramServer {

    private final byte[] secret;
    private final DecoyIterations decoyIterations;
    private final Function<String, Optional<Account>> accounts;
    private final Function<Account, String> refusals;
    private final SecureRandom random;
    private String user;
    private boolean known;
    private byte[] storedKey;
    private byte[] serverKey;
    private byte[] authMessage;
    private boolean accepted;
    private String refusal;
    private Account account;

    /**
     * @param secret            32 or more random bytes kept by the remote (the fake salts derive from it)
     * @param decoyIterations   the iteration counts shown for unknown and disabled users
     * @param accounts          finds an account by name (blocking)
     */
    public ScramServer(byte[] secret, DecoyIterations decoyIterations, Function<String, Optional<Account>> accounts,
                       SecureRandom random) {
        this(secret, decoyIterations, accounts, a -> a.enabled() ? null : "disabled user", random);
    }

    /**
     * @param refusals why an account that exists may not log in now ({@code "disabled user"}, {@code "expired
     *                 user"}), or null when it may; such an account takes the unknown user's path
     */
    public ScramServer(byte[] secret, DecoyIterations decoyIterations, Function<String, Optional<Account>> accounts,
                       Function<Account, String> refusals, SecureRandom random) {
        this.secret = secret.clone();
        this.decoyIterations = decoyIterations;
        this.accounts = accounts;
        this.refusals = refusals;
        this.random = random;
    }

    /**
     * Reads the CLIENT_HELLO and answers it.
     *
     * @return the SERVER_CHALLENGE payload
     * @throws LinkProtocolException if the hello is malformed
     */
    public byte[] challenge(ByteBuffer hello) throws LinkProtocolException {
        return challenge(hello, null);
    }

    /**
     * Reads the CLIENT_HELLO and answers it.
     *
     * @param channelBinding over TLS, the {@code tls-server-end-point} hash of this remote's certificate: the local
     *                       must announce binding and its proof must cover it; null on a plaintext link, where it
     *                       must announce none
     * @return the SERVER_CHALLENGE payload
     * @throws LinkProtocolException if the hello is malformed or announces the wrong binding
     */
    public byte[] challenge(ByteBuffer hello, byte[] channelBinding) throws LinkProtocolException {
        byte[] helloBytes = new byte[hello.remaining()];
        hello.duplicate().get(helloBytes);
        byte[] name;
        try {
            int length = hello.get() & 0xFF;
            if (length == 0) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "empty user name");
            }
            name = new byte[length];
            hello.get(name);
            hello.get(new byte[Scram.NONCE_BYTES]);
            int bindingType = hello.get() & 0xFF;
            if (hello.hasRemaining()) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed CLIENT_HELLO");
            }
            int expected = channelBinding == null ? Scram.BINDING_NONE : Scram.BINDING_TLS_SERVER_END_POINT;
            if (bindingType != expected) {
                // Over TLS a local that does not bind would let a man in the middle relay its proof.
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "channel binding type " + bindingType
                        + " (expected: " + expected + (expected == 0 ? ", none on a plaintext link)"
                        : ", tls-server-end-point over TLS)"));
            }
        } catch (BufferUnderflowException e) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "truncated CLIENT_HELLO");
        }
        user = new String(name, StandardCharsets.UTF_8);
        Optional<Account> found = accounts.apply(user);
        String refused = found.isEmpty() ? "unknown user" : refusals.apply(found.get());
        known = refused == null;
        account = known ? found.get() : null;
        refusal = known ? "wrong password" : refused;
        byte[] salt;
        int iterations;
        if (known) {
            ScramCredential credential = account.credential();
            salt = credential.salt();
            iterations = credential.iterations();
            storedKey = credential.storedKey();
            serverKey = credential.serverKey();
        } else {
            salt = java.util.Arrays.copyOf(Scram.hmac(secret, "salt".getBytes(StandardCharsets.US_ASCII), name),
                    ScramCredential.MIN_SALT_BYTES);
            iterations = decoyIterations.forName(name);
            // Keys nobody can match, computed like real ones would be used: same work, same failure.
            storedKey = Scram.hmac(secret, "stored".getBytes(StandardCharsets.US_ASCII), name);
            serverKey = Scram.hmac(secret, "server".getBytes(StandardCharsets.US_ASCII), name);
        }
        byte[] nonce = new byte[Scram.NONCE_BYTES];
        random.nextBytes(nonce);
        byte[] challenge = ByteBuffer.allocate(1 + salt.length + 4 + Scram.NONCE_BYTES).put((byte) salt.length)
                .put(salt).putInt(iterations).put(nonce).array();
        authMessage = Scram.authMessage(helloBytes, challenge, channelBinding);
        return challenge;
    }

    /**
     * {@return why the last {@link #verify} refused, for the remote's log only (the client never learns it):
     * {@code unknown user}, {@code disabled user}, {@code expired user} or {@code wrong password}}
     */
    public String refusal() {
        return refusal;
    }

    /** {@return the account as the store gave it at the hello, once {@link #accepted()}; null before} */
    public Account account() {
        return accepted ? account : null;
    }

    /** {@return the user named in the hello} */
    public String user() {
        return user;
    }

    /**
     * Checks the CLIENT_PROOF.
     *
     * @return the SERVER_OUTCOME payload; {@link #accepted()} tells which
     */
    public byte[] verify(ByteBuffer proof) {
        boolean ok = false;
        if (authMessage != null && proof.remaining() == Scram.KEY_BYTES) {
            byte[] clientProof = new byte[Scram.KEY_BYTES];
            proof.get(clientProof);
            byte[] clientKey = Scram.xor(clientProof, Scram.hmac(storedKey, authMessage));
            ok = MessageDigest.isEqual(Scram.sha256(clientKey), storedKey) & known;
        }
        accepted = ok;
        if (!ok) {
            return new byte[] {1};
        }
        return ByteBuffer.allocate(1 + Scram.KEY_BYTES).put((byte) 0).put(Scram.hmac(serverKey, authMessage)).array();
    }

    /** {@return whether the last {@link #verify} accepted the client} */
    public boolean accepted() {
        return accepted;
    }
}
