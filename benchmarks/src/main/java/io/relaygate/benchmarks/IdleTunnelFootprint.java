package io.relaygate.benchmarks;

import io.relaygate.core.Gateway;
import io.relaygate.httpconnect.HttpConnectPlugin;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Memory per idle tunnel: this process runs the gateway; a child JVM (a process may hold at most 20,000 files here)
 * opens N SOCKS5 tunnels through it to an origin of its own and keeps them idle. Heap after a full GC and direct
 * memory are read before and after.
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar io.relaygate.benchmarks.IdleTunnelFootprint 5000}
 */
public final class IdleTunnelFootprint {

    private IdleTunnelFootprint() {
    }

    public static void main(String[] args) throws Exception {
        int tunnels = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        try (Gateway gateway = TestGateway.start(List.of(new Socks5Plugin(), new HttpConnectPlugin()),
                "reactor.eventLoops", "0", "limits.maxConnections", "20000",
                "limits.maxHandshakesPerSource", "20000")) {
            long heapBefore = heapAfterGc();
            long directBefore = direct();
            Process clients = new ProcessBuilder(javaBinary(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    Clients.class.getName(), Integer.toString(gateway.address("mixed").getPort()),
                    Integer.toString(tunnels)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(clients.getInputStream(),
                    StandardCharsets.UTF_8));
            String line = out.readLine();
            if (!"ready".equals(line)) {
                throw new IllegalStateException("clients failed: " + line);
            }
            long heapAfter = heapAfterGc();
            long directAfter = direct();
            int open = gateway.stats().openTunnels();
            System.out.printf("idle tunnels open: %d%n", open);
            System.out.printf("heap after GC: %.1f MiB -> %.1f MiB (+%.1f MiB, %d bytes per tunnel)%n",
                    heapBefore / 1048576.0, heapAfter / 1048576.0, (heapAfter - heapBefore) / 1048576.0,
                    (heapAfter - heapBefore) / Math.max(1, open));
            System.out.printf("direct buffers: %.1f MiB -> %.1f MiB; pooled buffers in use: %d%n",
                    directBefore / 1048576.0, directAfter / 1048576.0, gateway.bufferPool().inUse());
            clients.getOutputStream().close();
            clients.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long direct() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** The client process: opens the tunnels, says "ready", holds them until its standard input closes. */
    public static final class Clients {
        private Clients() {
        }

        public static void main(String[] args) throws Exception {
            int port = Integer.parseInt(args[0]);
            int tunnels = Integer.parseInt(args[1]);
            try (TestOrigin origin = TestOrigin.start(socket -> socket.getInputStream().read())) {
                List<Socket> sockets = new ArrayList<>();
                InetSocketAddress gateway = new InetSocketAddress("127.0.0.1", port);
                for (int i = 0; i < tunnels; i++) {
                    sockets.add(Socks5Client.connect(gateway, "127.0.0.1", origin.port()));
                }
                System.out.println("ready");
                System.out.flush();
                System.in.read();
                for (Socket socket : sockets) {
                    socket.close();
                }
            }
        }
    }
}
