package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Await;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** D2: a connection flood beyond the process's file limit: the acceptor backs off instead of spinning, and recovers. */
@Timeout(120)
class AcceptBackoffIT {

    @TempDir
    Path work;

    @Test
    void outOfFileDescriptorsTheAcceptorPausesAndRecovers() throws Exception {
        Path config = work.resolve("flood.yaml");
        Files.writeString(config, "limits:\n  maxConnections: 5000\n  maxHandshakesPerSource: 5000\n"
                + "reactor:\n  eventLoops: 1\n");
        Path launcher = work.resolve("gateway-ulimit.sh");
        Files.writeString(launcher, "#!/bin/sh\nulimit -n 256\nexec \"$@\"\n");
        launcher.toFile().setExecutable(true);
        ProcessBuilder builder = new ProcessBuilder(launcher.toString(),
                GatewayProcess.HOME.resolve("bin/gateway").toString(), "--listen=127.0.0.1:0", "--console=off",
                "--config=" + config);
        try (TestOrigin echo = TestOrigin.start(TestOrigin.echo());
             GatewayProcess gateway = GatewayProcess.start(builder, work)) {
            gateway.awaitListening();
            List<Socket> flood = new ArrayList<>();
            try {
                for (int i = 0; i < 400; i++) {          // more than the 256 files the gateway may open
                    Socket socket = new Socket(InetAddress.getLoopbackAddress(), gateway.address("mixed").getPort());
                    flood.add(socket);
                }
                Await.until("the gateway to report failing accepts", Duration.ofSeconds(20),
                        () -> gateway.stderr().contains("accept failed"));
                long cpuBefore = cpuMillis(gateway.pid());
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));     // a window to measure CPU over
                long cpuUsed = cpuMillis(gateway.pid()) - cpuBefore;
                assertThat(cpuUsed).as("CPU ms used in 2 s while out of descriptors").isLessThan(1000);
            } finally {
                for (Socket socket : flood) {
                    socket.close();
                }
            }
            Await.until("a tunnel works again", Duration.ofSeconds(30), () -> tunnelWorks(gateway, echo));
        }
    }

    private static boolean tunnelWorks(GatewayProcess gateway, TestOrigin echo) {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), gateway.address("mixed").getPort())) {
            socket.setSoTimeout(2_000);
            socket.getOutputStream().write(io.relaygate.testkit.Socks5Client.greetingAndRequest("127.0.0.1",
                    echo.port()));
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] head = new byte[12];
            in.readFully(head);
            return head[1] == 0 && head[3] == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@return user + system CPU time of a process, from /proc (clock ticks of 10 ms)} */
    private static long cpuMillis(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10;
    }
}
