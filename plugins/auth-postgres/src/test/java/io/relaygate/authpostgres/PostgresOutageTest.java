package io.relaygate.authpostgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.spi.Account;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.ScramCredential;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.LogCapture;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote on PostgreSQL through an outage (the database cut off, as a restart or a network fault would): open
 * tunnels go on, logins fail while it is away and work again when it is back, and the traffic counted meanwhile
 * reaches the database then, none lost.
 */
@Timeout(90)
class PostgresOutageTest {

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();
    private TestDatabase database;

    @BeforeEach
    void createSchema() throws Exception {
        database = new TestDatabase();
    }

    @AfterEach
    void dropSchema() throws Exception {
        closer.close();
        database.close();
    }

    /** {@return a tunnel through the remote's direct listener as alice, or null when refused} */
    private static Socket tunnel(Gateway remote, int port) {
        try {
            Socket socket = Socks5Client.open(remote.address("direct"));
            socket.setSoTimeout(10_000);
            ByteArrayOutputStream hello = new ByteArrayOutputStream();
            hello.writeBytes(new byte[] {5, 1, 2});
            hello.writeBytes(Socks5Client.auth("alice", "pw"));
            hello.writeBytes(Socks5Client.request("127.0.0.1", port));
            socket.getOutputStream().write(hello.toByteArray());
            byte[] methodAndAuth = new byte[4];
            new DataInputStream(socket.getInputStream()).readFully(methodAndAuth);
            if (methodAndAuth[3] != 0 || Socks5Client.readReply(socket).code() != 0) {
                socket.close();
                return null;
            }
            return socket;
        } catch (IOException e) {
            return null;
        }
    }

    private static void echo(Socket tunnel, int bytes) throws IOException {
        tunnel.getOutputStream().write(new byte[bytes]);
        assertThat(tunnel.getInputStream().readNBytes(bytes)).hasSize(bytes);
    }

    @Test
    void tunnelsGoOnLoginsComeBackAndNoTrafficIsLostThroughAnOutage() throws Exception {
        URI url = URI.create(TestDatabase.URL.substring("jdbc:".length()));
        CuttableProxy proxy = closer.track(new CuttableProxy(new InetSocketAddress(url.getHost(), url.getPort())));
        try (PostgresAccountStore direct = PostgresAccountStore.open(database.config())) {
            direct.create(Account.create("alice", ScramCredential.create("pw".getBytes(), 64, new SecureRandom()),
                    true, AccountLimits.NONE));
        }
        String throughProxy = "jdbc:postgresql://127.0.0.1:" + proxy.port() + url.getPath() + "?currentSchema="
                + database.schema;
        Gateway remote = closer.track(TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(),
                        new PostgresAuthPlugin()), "role", "remote", "accountStore", "postgres",
                "plugins.postgres.url", throughProxy, "plugins.postgres.user", TestDatabase.USER,
                "plugins.postgres.connectTimeout", "1s", "rateLimiter", "none", "directListen", "127.0.0.1:0",
                "dataDir", data.toString(), "allowDestination", "127.0.0.1/32", "limits.authFailuresBeforeDelay",
                "0"));
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Socket open = closer.track(tunnel(remote, echo.port()));
        assertThat(open).isNotNull();
        echo(open, 1000);

        try (LogCapture log = LogCapture.of(Gateway.class.getName())) {
            proxy.cut();
            assertThat(tunnel(remote, echo.port())).as("no login while the database is away").isNull();
            for (int i = 0; i < 10; i++) {
                echo(open, 100_000);            // the open tunnel goes on, its traffic counted here
            }
            // The outage lasts until persisting this traffic has failed at least once: it is kept to try again.
            Await.until("a persist failed", Duration.ofSeconds(15),
                    () -> !log.linesContaining("persisting traffic counters failed, will retry").isEmpty());
        }

        proxy.restore();
        Await.until("logins work again", Duration.ofSeconds(20), () -> {
            Socket again = tunnel(remote, echo.port());
            if (again == null) {
                return false;
            }
            try {
                echo(again, 10);
                again.close();
                return true;
            } catch (IOException e) {
                return false;
            }
        });
        open.close();
        Shaping.Meter meter = remote.shaping().meters().get("alice");
        try (PostgresAccountStore direct = PostgresAccountStore.open(database.config())) {
            Await.until("the outage's traffic persisted", Duration.ofSeconds(20), () -> {
                Account alice = direct.find("alice").orElseThrow();
                return alice.bytesUp() + alice.bytesDown() == meter.bytesUp() + meter.bytesDown()
                        && alice.bytesUp() >= 1_001_010;
            });
        }
    }
}
