package io.relaygate.benchmarks;

import io.relaygate.core.Gateway;
import io.relaygate.httpconnect.HttpConnectPlugin;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.testkit.MemoryAccounts;
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
 * <p>
 * With {@code chain} the tunnels are streams of links between a local gateway (this process) and a remote gateway
 * (a child), over TLS; the clients and the origin are two more children, so no process holds more than N sockets.
 * Both gateways' heaps are read: {@code IdleTunnelFootprint 10000 chain}.
 */
public final class IdleTunnelFootprint {

    private IdleTunnelFootprint() {
    }

    public static void main(String[] args) throws Exception {
        int tunnels = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        if (args.length > 1 && args[1].equals("chain")) {
            chain(tunnels);
            return;
        }
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

    private static void chain(int tunnels) throws Exception {
        Process remoteSide = child(RemoteSide.class);
        BufferedReader remoteOut = reader(remoteSide);
        String[] link = remoteOut.readLine().split(" ");            // link PORT FINGERPRINT
        Process originSide = child(Origin.class);
        String originPort = reader(originSide).readLine().split(" ")[1];
        try (Gateway local = Gateway.builder(TestGateway.config("remote", "127.0.0.1:" + link[1], "user", "bench",
                        "remoteFingerprint", link[2], "reactor.eventLoops", "0", "limits.maxConnections", "20000",
                        "limits.maxHandshakesPerSource", "20000"))
                .plugins(List.of(new Socks5Plugin())).linkPassword("pw".getBytes(StandardCharsets.UTF_8)).start()) {
            long localBefore = heapAfterGc();
            String remoteBefore = measure(remoteSide, remoteOut);
            Process clients = child(Clients.class, Integer.toString(local.address("mixed").getPort()),
                    Integer.toString(tunnels), originPort);
            String line = reader(clients).readLine();
            if (!"ready".equals(line)) {
                throw new IllegalStateException("clients failed: " + line);
            }
            long localAfter = heapAfterGc();
            String remoteAfter = measure(remoteSide, remoteOut);
            System.out.printf("idle streams: local %d tunnels open; remote %s%n", local.stats().openTunnels(),
                    remoteAfter);
            System.out.printf("local heap after GC: %.1f MiB -> %.1f MiB (+%.1f MiB, %d bytes per stream)%n",
                    localBefore / 1048576.0, localAfter / 1048576.0, (localAfter - localBefore) / 1048576.0,
                    (localAfter - localBefore) / Math.max(1, tunnels));
            System.out.printf("remote before: %s%n", remoteBefore);
            clients.getOutputStream().close();
            clients.waitFor(60, TimeUnit.SECONDS);
        } finally {
            remoteSide.getOutputStream().close();
            originSide.getOutputStream().close();
            remoteSide.waitFor(30, TimeUnit.SECONDS);
            originSide.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static String measure(Process side, BufferedReader out) throws java.io.IOException {
        side.getOutputStream().write("measure\n".getBytes(StandardCharsets.UTF_8));
        side.getOutputStream().flush();
        return out.readLine();
    }

    private static Process child(Class<?> main, String... args) throws java.io.IOException {
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx1g", "-cp",
                System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static BufferedReader reader(Process process) {
        return new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** The remote gateway of the chain: says "link PORT FINGERPRINT", answers "measure" with its heap after GC. */
    public static final class RemoteSide {
        private RemoteSide() {
        }

        public static void main(String[] args) throws Exception {
            MemoryAccounts accounts = new MemoryAccounts(4096).put("bench", "pw", true);
            try (Gateway remote = TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts),
                    "role", "remote", "accountStore", "memory", "allowDestination", "127.0.0.1/32",
                    "dataDir", java.nio.file.Files.createTempDirectory("footprint").toString(), "rateLimiter", "none",
                    "reactor.eventLoops", "0", "limits.maxConnections", "20000")) {
                System.out.println("link " + remote.address("link").getPort() + " " + remote.linkFingerprint());
                System.out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null; ) {
                    long heap = heapAfterGc();
                    System.out.printf("%d tunnels open, %d links, heap after GC %.1f MiB%n",
                            remote.stats().openTunnels(), remote.sessions().links("bench"), heap / 1048576.0);
                    System.out.flush();
                }
            }
        }
    }

    /** An origin that keeps every connection open and silent: says "origin PORT", ends with its input. */
    public static final class Origin {
        private Origin() {
        }

        public static void main(String[] args) throws Exception {
            try (TestOrigin origin = TestOrigin.start(socket -> socket.getInputStream().read())) {
                System.out.println("origin " + origin.port());
                System.out.flush();
                System.in.read();
            }
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
            // With a third argument the origin is another process's (each process holds at most 20,000 files).
            try (TestOrigin origin = args.length > 2 ? null : TestOrigin.start(socket -> socket.getInputStream().read())) {
                int originPort = args.length > 2 ? Integer.parseInt(args[2]) : origin.port();
                List<Socket> sockets = new ArrayList<>();
                InetSocketAddress gateway = new InetSocketAddress("127.0.0.1", port);
                for (int i = 0; i < tunnels; i++) {
                    sockets.add(Socks5Client.connect(gateway, "127.0.0.1", originPort));
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
