package io.relaygate.core.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.spi.Account;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.ScramCredential;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The link's SCRAM exchange: mutual proof, wrong and unknown users alike, and replays that fail (F1, F2). */
class ScramTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final Map<String, Account> ACCOUNTS = Map.of(
            "alice", Account.create("alice", ScramCredential.create("secret".getBytes(), 256, RANDOM), true, AccountLimits.NONE),
            "carol", Account.create("carol", ScramCredential.create("pw".getBytes(), 256, RANDOM), false, AccountLimits.NONE));

    private static ScramServer server() {
        return server(ACCOUNTS, 256);
    }

    private static ScramServer server(Map<String, Account> accounts, int defaultIterations) {
        DecoyIterations decoys = new DecoyIterations(SECRET, defaultIterations, () -> {
            Map<Integer, Long> counts = new java.util.HashMap<>();
            accounts.values().forEach(a -> counts.merge(a.credential().iterations(), 1L, Long::sum));
            return counts;
        });
        return new ScramServer(SECRET, decoys, name -> Optional.ofNullable(accounts.get(name)), RANDOM);
    }

    /** {@return the salt and iteration count a challenge shows for {@code user}} */
    private static byte[] saltAndIterations(ScramServer server, String user) throws LinkProtocolException {
        byte[] challenge = server.challenge(ByteBuffer.wrap(new ScramClient(user, new byte[] {1}, RANDOM).hello()));
        return java.util.Arrays.copyOfRange(challenge, 0, 1 + challenge[0] + 4);
    }

    private static int iterations(byte[] saltAndIterations) {
        return ByteBuffer.wrap(saltAndIterations, saltAndIterations.length - 4, 4).getInt();
    }

    @Test
    void unknownNamesShowIterationCountsDrawnFromTheRealAccountsNotTheConfiguredDefault() throws Exception {
        // Three accounts made at 256 iterations, one at 300; the running configuration says 100.
        Map<String, Account> accounts = new java.util.HashMap<>();
        for (String name : new String[] {"a", "b", "c"}) {
            accounts.put(name, Account.create(name, ScramCredential.create("pw".getBytes(), 256, RANDOM), true, AccountLimits.NONE));
        }
        accounts.put("old", Account.create("old", ScramCredential.create("pw".getBytes(), 300, RANDOM), true, AccountLimits.NONE));
        ScramServer server = server(accounts, 100);
        int at256 = 0;
        for (int i = 0; i < 2_000; i++) {
            int shown = iterations(saltAndIterations(server, "probe" + i));
            assertThat(shown).as("a count that real accounts have").isIn(256, 300);
            at256 += shown == 256 ? 1 : 0;
        }
        assertThat(at256).as("weighted like the accounts: 3 of 4 at 256").isBetween(1_350, 1_650);
        assertThat(saltAndIterations(server(accounts, 100), "probe7")).as("stable per name")
                .isEqualTo(saltAndIterations(server, "probe7"));
        assertThat(iterations(saltAndIterations(server(Map.of(), 100), "x"))).as("no account yet: the default")
                .isEqualTo(100);
    }

    @Test
    void aDisabledUserGetsExactlyWhatAnUnknownNameWouldGet() throws Exception {
        Map<String, Account> withoutCarol = new java.util.HashMap<>(ACCOUNTS);
        withoutCarol.remove("carol");
        byte[] shown = saltAndIterations(server(), "carol");
        assertThat(shown).isEqualTo(saltAndIterations(server(withoutCarol, 256), "carol"));
        assertThat(java.util.Arrays.copyOfRange(shown, 1, 1 + shown[0])).as("never the real salt")
                .isNotEqualTo(ACCOUNTS.get("carol").credential().salt());
    }

    private static boolean exchange(String user, String password) throws LinkProtocolException {
        ScramClient client = new ScramClient(user, password.getBytes(), RANDOM);
        ScramServer server = server();
        byte[] challenge = server.challenge(ByteBuffer.wrap(client.hello()));
        byte[] proof = client.proof(ByteBuffer.wrap(challenge));
        byte[] outcome = server.verify(ByteBuffer.wrap(proof));
        boolean clientSatisfied = client.accepted(ByteBuffer.wrap(outcome));
        assertThat(clientSatisfied).isEqualTo(server.accepted());
        return server.accepted();
    }

    @Test
    void theRightPasswordIsAcceptedAndTheServerProvesItself() throws Exception {
        assertThat(exchange("alice", "secret")).isTrue();
    }

    @Test
    void wrongPasswordUnknownUserAndDisabledUserAreAllRefused() throws Exception {
        assertThat(exchange("alice", "Secret")).isFalse();
        assertThat(exchange("mallory", "secret")).isFalse();
        assertThat(exchange("carol", "pw")).isFalse();
    }

    @Test
    void anUnknownUserGetsAStableFakeSaltAndTheIterationsOfTheRealAccounts() throws Exception {
        byte[] first = server().challenge(ByteBuffer.wrap(new ScramClient("nobody", new byte[] {1}, RANDOM).hello()));
        byte[] second = server().challenge(ByteBuffer.wrap(new ScramClient("nobody", new byte[] {1}, RANDOM).hello()));
        int saltLength = first[0];
        assertThat(saltLength).isEqualTo(16);
        assertThat(java.util.Arrays.copyOfRange(first, 0, 1 + saltLength + 4))
                .as("salt and iterations repeat; only the nonce changes")
                .isEqualTo(java.util.Arrays.copyOfRange(second, 0, 1 + saltLength + 4));
        assertThat(ByteBuffer.wrap(first, 1 + saltLength, 4).getInt()).isEqualTo(256);
    }

    @Test
    void f1F2ARecordedProofFailsAgainstAFreshServerNonce() throws Exception {
        ScramClient client = new ScramClient("alice", "secret".getBytes(), RANDOM);
        byte[] hello = client.hello();
        ScramServer original = server();
        byte[] proof = client.proof(ByteBuffer.wrap(original.challenge(ByteBuffer.wrap(hello))));
        original.verify(ByteBuffer.wrap(proof));
        assertThat(original.accepted()).isTrue();

        ScramServer replayed = server();                      // the attacker replays hello and proof
        replayed.challenge(ByteBuffer.wrap(hello));
        replayed.verify(ByteBuffer.wrap(proof));
        assertThat(replayed.accepted()).isFalse();
    }

    /** One exchange over TLS, the local having seen {@code localView}, the remote binding {@code remoteOwn}. */
    private static boolean boundExchange(byte[] localView, byte[] remoteOwn) throws LinkProtocolException {
        ScramClient client = new ScramClient(new LinkCredentials("alice", "secret".getBytes()), RANDOM, true);
        ScramServer server = server();
        byte[] challenge = server.challenge(ByteBuffer.wrap(client.hello()), remoteOwn);
        byte[] outcome = server.verify(ByteBuffer.wrap(client.proof(ByteBuffer.wrap(challenge), localView)));
        return server.accepted() && client.accepted(ByteBuffer.wrap(outcome));
    }

    @Test
    void overTlsTheProofsCoverTheCertificateEachSideSaw() throws Exception {
        byte[] remoteCertificate = Scram.sha256("the remote's certificate".getBytes());
        byte[] mitmCertificate = Scram.sha256("a man in the middle's certificate".getBytes());
        assertThat(boundExchange(remoteCertificate, remoteCertificate)).isTrue();
        assertThat(boundExchange(mitmCertificate, remoteCertificate)).as("relayed through another certificate")
                .isFalse();
        // Announcing binding on a plaintext link, or none over TLS, is refused at the hello.
        ScramClient bound = new ScramClient(new LinkCredentials("alice", "secret".getBytes()), RANDOM, true);
        assertThatThrownBy(() -> server().challenge(ByteBuffer.wrap(bound.hello()), null))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("channel binding");
        ScramClient unbound = new ScramClient(new LinkCredentials("alice", "secret".getBytes()), RANDOM);
        assertThatThrownBy(() -> server().challenge(ByteBuffer.wrap(unbound.hello()), remoteCertificate))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("tls-server-end-point");
    }

    @Test
    void malformedMessagesAreProtocolErrors() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> server().challenge(ByteBuffer.wrap(new byte[] {5, 1})))
                .isInstanceOf(LinkProtocolException.class);
        ScramClient client = new ScramClient("alice", "secret".getBytes(), RANDOM);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.proof(ByteBuffer.wrap(new byte[] {16, 1, 2})))
                .isInstanceOf(LinkProtocolException.class);
        assertThat(client.accepted(ByteBuffer.wrap(new byte[33]))).as("an outcome before any proof").isFalse();
    }
}
