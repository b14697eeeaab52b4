package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.LogCapture;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The remote's optional direct listener: RFC 1929 against the accounts, damping, and timing of refusals. */
@Timeout(120)
class RemoteDirectListenerTest {

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();


    private Gateway remote(MemoryAccounts accounts, String... extra) {
        List<String> settings = new ArrayList<>(List.of("role", "remote", "accountStore", "memory",
                "directListen", "127.0.0.1:0", "dataDir", data.toString(), "allowDestination", "127.0.0.1/32"));
        settings.addAll(List.of(extra));
        return closer.track(TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts, new TokenBucketPlugin()),
                settings.toArray(String[]::new)));
    }

    /** {@return the RFC 1929 status, or -1 if the connection closed first} */
    private static int login(InetSocketAddress gateway, InetAddress from, String user, String password,
                             int port) throws IOException {
        try (Socket socket = new Socket(gateway.getAddress(), gateway.getPort(), from, 0)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(new byte[] {5, 1, 2});
            socket.getOutputStream().write(Socks5Client.auth(user, password));
            DataInputStream in = new DataInputStream(socket.getInputStream());
            in.readFully(new byte[2]);
            int version = in.read();
            if (version < 0) {
                return -1;
            }
            int status = in.read();
            if (status == 0) {
                socket.getOutputStream().write(Socks5Client.request("127.0.0.1", port));
                assertThat(Socks5Client.readReply(socket).code()).isZero();
                socket.getOutputStream().write(5);
                assertThat(in.read()).isEqualTo(5);
            }
            return status;
        }
    }

    @Test
    void directClientsAuthenticateAgainstTheAccountsAndFollowThePolicy() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(new MemoryAccounts().put("alice", "secret", true));
        InetSocketAddress direct = remote.address("direct");
        InetAddress localhost = InetAddress.getLoopbackAddress();
        assertThat(login(direct, localhost, "alice", "secret", echo.port())).isZero();
        assertThat(login(direct, localhost, "alice", "nope", echo.port())).isEqualTo(1);
        try (Socket socket = Socks5Client.open(direct)) {
            socket.getOutputStream().write(new byte[] {5, 1, 0});     // no-auth only: never accepted here
            assertThat(Sockets.readToEnd(socket)).containsExactly(5, 0xFF);
        }
    }

    @Test
    void a14RepeatedFailuresFromOneAddressAreDelayedThenRefusedWhileOtherAddressesAreServed() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(new MemoryAccounts().put("alice", "secret", true),
                "limits.authFailuresBeforeDelay", "2", "limits.authFailuresBeforeRefusal", "4");
        InetSocketAddress direct = remote.address("direct");
        InetAddress attacker = InetAddress.getByName("127.0.0.1");
        InetAddress bystander = InetAddress.getByName("127.0.0.2");
        assertThat(login(direct, attacker, "alice", "guess1", echo.port())).isEqualTo(1);
        assertThat(login(direct, attacker, "alice", "guess2", echo.port())).isEqualTo(1);
        long start = System.nanoTime();
        assertThat(login(direct, attacker, "alice", "guess3", echo.port())).isEqualTo(1);
        assertThat((System.nanoTime() - start) / 1_000_000).as("a damped answer comes a second late")
                .isGreaterThanOrEqualTo(1000);
        assertThat(login(direct, attacker, "alice", "guess4", echo.port())).isEqualTo(1);
        assertThat(login(direct, attacker, "alice", "secret", echo.port())).as("refused unchecked, even right")
                .isEqualTo(1);
        assertThat(login(direct, bystander, "alice", "secret", echo.port())).as("another address").isZero();
        assertThat(remote.stats().handshakeFailures()).containsKey("socks5: authentication damped");
    }

    @Test
    void failedAndDampedLoginsAreLoggedWithinTheBudgetAndNamesCannotForgeTheLine() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(new MemoryAccounts().put("alice", "secret", true),
                "limits.authFailuresBeforeDelay", "1", "limits.authFailuresBeforeRefusal", "2");
        InetSocketAddress direct = remote.address("direct");
        InetAddress attacker = InetAddress.getByName("127.0.0.3");
        try (LogCapture log = LogCapture.of("io.relaygate.auth")) {
            // U+202E would show the rest of the line reversed; U+200B is invisible.
            assertThat(login(direct, attacker, "mallory\u202E\u200Bnimda", "x", echo.port())).isEqualTo(1);
            assertThat(login(direct, attacker, "alice", "guess", echo.port())).isEqualTo(1);
            assertThat(login(direct, attacker, "alice", "secret", echo.port())).as("refused unchecked").isEqualTo(1);
            assertThat(log.linesContaining("authentication failed for user")).hasSize(2)
                    .first().asString().contains("mallory\\u{202e}\\u{200b}nimda").doesNotContain("\u202E");
            assertThat(log.linesContaining("too many failed logins, refused without checking")).hasSize(1);
            assertThat(log.linesContaining("login damping:")).as("the damping itself, with counts").hasSize(1);
        }
    }

    @Test
    void unknownUsersAndWrongPasswordsTakeTheSameTime() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        // Enough iterations that the key derivation, not the loopback, dominates each answer.
        Gateway remote = remote(new MemoryAccounts(50_000).put("alice", "secret", true),
                "limits.authFailuresBeforeDelay", "0");
        InetSocketAddress direct = remote.address("direct");
        InetAddress localhost = InetAddress.getLoopbackAddress();
        login(direct, localhost, "alice", "secret", echo.port());     // teach the decoy its cost
        for (int i = 0; i < 5; i++) {                                 // warm both paths up before measuring
            login(direct, localhost, "alice", "wrong", echo.port());
            login(direct, localhost, "warm" + i, "wrong", echo.port());
        }
        List<Long> wrong = new ArrayList<>();
        List<Long> unknown = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String stranger = "nobody" + i;
            // Alternate which goes first, so that neither kind always runs on a machine one login warmer.
            if (i % 2 == 0) {
                wrong.add(timed(() -> login(direct, localhost, "alice", "wrong", echo.port())));
                unknown.add(timed(() -> login(direct, localhost, stranger, "wrong", echo.port())));
            } else {
                unknown.add(timed(() -> login(direct, localhost, stranger, "wrong", echo.port())));
                wrong.add(timed(() -> login(direct, localhost, "alice", "wrong", echo.port())));
            }
        }
        // Each unknown login against the wrong password timed next to it: a pair shares the machine's load of the
        // moment (this machine is shared), which a ratio of the two medians would not.
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < wrong.size(); i++) {
            ratios.add((double) unknown.get(i) / wrong.get(i));
        }
        Collections.sort(ratios);
        assertThat(ratios.get(ratios.size() / 2)).as("median of unknown / wrong, pair by pair").isBetween(0.9, 1.1);
    }

    private interface Login {
        int run() throws IOException;
    }

    private static long timed(Login login) throws IOException {
        long start = System.nanoTime();
        assertThat(login.run()).isEqualTo(1);
        return System.nanoTime() - start;
    }
}
