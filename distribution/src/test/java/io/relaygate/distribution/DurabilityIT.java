package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Await;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestOrigin;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** H1/H2: kill -9 of the remote during traffic and account writes loses no acknowledged write and no flush. */
@Timeout(240)
class DurabilityIT {

    @TempDir
    Path work;

    private int user(Path data, Path config, String stdin, String... args) throws Exception {
        return new UserCli(work, data, config).run(stdin, args);
    }

    private static long[] counters(Path db, String user) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
             PreparedStatement ps = c.prepareStatement("SELECT bytes_up, bytes_down FROM users WHERE name = ?")) {
            ps.setString(1, user);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2)} : new long[2];
            }
        }
    }

    @Test
    void acknowledgedWritesAndFlushedCountersSurviveKillMinus9() throws Exception {
        Path data = Files.createDirectories(work.resolve("data"));
        Path config = work.resolve("remote.yaml");
        Files.writeString(config, "passwordIterations: 1024\n");
        Path db = data.resolve("gateway.db");
        assertThat(user(data, config, "pw\n", "add", "alice", "--password-stdin")).isZero();
        long firstTunnel = 8L << 20;
        try (TestOrigin source = TestOrigin.start(socket -> {
            OutputStream out = socket.getOutputStream();
            long size = new java.io.DataInputStream(socket.getInputStream()).readLong();
            byte[] chunk = new byte[64 * 1024];
            for (long sent = 0; sent < size; sent += chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, size - sent));
            }
        })) {
            originPort = source.port();
            GatewayProcess remote = GatewayProcess.start(GatewayProcess.HOME, work, "--role=remote",
                    "--listen=127.0.0.1:0", "--console=off", "--data-dir=" + data, "--config=" + config,
                    "--direct-listen=127.0.0.1:0", "--allow-destination=127.0.0.1/32");
            try (remote) {
                remote.awaitListening();
                Await.until("both listeners", Duration.ofSeconds(10), () -> remote.stdout().size() >= 2);
                // A first tunnel that closes: its bytes must be flushed within one interval (5 s).
                download(remote, firstTunnel);
                Await.until("the first tunnel's counters flushed", Duration.ofSeconds(8),
                        () -> readDown(db) == firstTunnel);

                // Then traffic and account writes in flight when the remote dies.
                AtomicBoolean stop = new AtomicBoolean();
                AtomicLong moving = new AtomicLong();
                Thread traffic = new Thread(() -> {
                    try (Socket tunnel = directTunnel(remote)) {
                        new java.io.DataOutputStream(tunnel.getOutputStream()).writeLong(Long.MAX_VALUE / 2);
                        InputStream in = tunnel.getInputStream();
                        byte[] buffer = new byte[64 * 1024];
                        int n;
                        while (!stop.get() && (n = in.read(buffer)) >= 0) {
                            moving.addAndGet(n);
                        }
                    } catch (Exception expected) {
                        // the remote was killed
                    }
                });
                traffic.start();
                // The live tunnel's bytes are persisted while it runs, every flush interval.
                Await.until("the live tunnel counted while open", Duration.ofSeconds(12),
                        () -> readDown(db) > firstTunnel);
                long flushedBeforeKill = readDown(db);
                List<String> acknowledged = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    if (user(data, config, "pw\n", "add", "u" + i, "--password-stdin") == 0) {
                        acknowledged.add("u" + i);
                    }
                }
                remote.kill9();
                remote.awaitExit(10);
                stop.set(true);
                traffic.join(10_000);
                assertThat(acknowledged).hasSize(6);

                try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                     Statement s = c.createStatement()) {
                    try (ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("ok");
                    }
                    for (String name : acknowledged) {
                        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM users WHERE name = '" + name + "'")) {
                            assertThat(rs.getInt(1)).as(name).isEqualTo(1);
                        }
                    }
                }
                long[] persisted = counters(db, "alice");
                // Never double counted, nothing flushed lost: at most the last interval of the live tunnel is missing.
                assertThat(persisted[1]).isBetween(flushedBeforeKill, firstTunnel + moving.get());
            }
            // The database opens again and the account works.
            try (GatewayProcess again = GatewayProcess.start(GatewayProcess.HOME, work, "--role=remote",
                    "--listen=127.0.0.1:0", "--console=off", "--data-dir=" + data, "--config=" + config,
                    "--direct-listen=127.0.0.1:0", "--allow-destination=127.0.0.1/32")) {
                again.awaitListening();
                Await.until("both listeners", Duration.ofSeconds(10), () -> again.stdout().size() >= 2);
                download(again, 1024);
            }
        }
    }

    private long readDown(Path db) {
        try {
            return counters(db, "alice")[1];
        } catch (Exception e) {
            return -1;
        }
    }

    /** A SOCKS5 tunnel as alice through the remote's direct listener to the origin. */
    private Socket directTunnel(GatewayProcess remote) throws Exception {
        Socket socket = Socks5Client.open(remote.address("direct"));
        socket.getOutputStream().write(new byte[] {5, 1, 2});
        socket.getOutputStream().write(Socks5Client.auth("alice", "pw"));
        socket.getOutputStream().write(Socks5Client.request("127.0.0.1", originPort));
        byte[] head = new byte[4];
        new java.io.DataInputStream(socket.getInputStream()).readFully(head);
        assertThat(head).containsExactly(5, 2, 1, 0);
        assertThat(Socks5Client.readReply(socket).code()).isZero();
        return socket;
    }

    private void download(GatewayProcess remote, long size) throws Exception {
        try (Socket tunnel = directTunnel(remote)) {
            new java.io.DataOutputStream(tunnel.getOutputStream()).writeLong(size);
            long[] count = {0};
            io.relaygate.testkit.Bytes.readAll(tunnel.getInputStream(), count);
            assertThat(count[0]).isEqualTo(size);
        }
    }

    private int originPort;
}
