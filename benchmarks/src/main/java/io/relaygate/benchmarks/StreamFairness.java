package io.relaygate.benchmarks;

import io.relaygate.core.Gateway;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Fairness of one link's streams: N clients (another process) download the same number of bytes at once through a
 * local and a remote gateway (this process) chained over TLS 1.3, all on one link (one event loop, {@code linkPool}
 * 1), and Jain's fairness index of
 * their download rates is printed ((Σx)² / (n·Σx²): 1 when every stream got the same rate, 1/n when one got all):
 * over each stream's whole download (start skew included), and over the window in which every stream is receiving
 * (from the moment the last stream got its first byte to the moment the first one finished).
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar io.relaygate.benchmarks.StreamFairness 1000 1048576 [plain]}
 */
public final class StreamFairness {

    private StreamFairness() {
    }

    public static void main(String[] args) throws Exception {
        int streams = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int bytes = args.length > 1 ? Integer.parseInt(args[1]) : 1 << 20;
        boolean tls = args.length < 3 || !args[2].equals("plain");
        MemoryAccounts accounts = new MemoryAccounts(4096).put("bench", "pw", true);
        try (Gateway remote = TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts,
                new TokenBucketPlugin()), "role", "remote", "accountStore", "memory", "allowDestination",
                "127.0.0.1/32", "dataDir", Files.createTempDirectory("fairness").toString(),
                "limits.maxConnections", "8192", "limits.maxHandshakesPerSource", "8192",
                "reactor.eventLoops", "1", "linkTls.mode", tls ? "on" : "off");
             Gateway local = Gateway.builder(TestGateway.config("remote", "127.0.0.1:"
                             + remote.address("link").getPort(), "user", "bench", tls ? "remoteFingerprint" : "linkTls.mode",
                     tls ? remote.linkFingerprint() : "off", "linkPool", "1", "reactor.eventLoops", "1",
                     "limits.maxConnections", "8192", "limits.maxHandshakesPerSource", "8192"))
                     .plugins(List.of(new Socks5Plugin())).linkPassword("pw".getBytes(StandardCharsets.UTF_8))
                     .start()) {
            // The origin and the clients are another process: a thousand busy threads here would take the
            // gateways' two event loops' CPU in proportion to their number.
            Process load = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                    System.getProperty("java.class.path"), Load.class.getName(),
                    Integer.toString(local.address("mixed").getPort()), Integer.toString(streams),
                    Integer.toString(bytes)).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
            if (!load.waitFor(10, TimeUnit.MINUTES)) {
                load.destroyForcibly();
                throw new IllegalStateException("the downloads did not finish");
            }
            System.out.printf("over one %s link (linkPool 1, one event loop each side)%n", tls ? "TLS" : "plaintext");
        }
    }

    /** The load process: an origin that sends each client {@code bytes}, and the clients through the local. */
    public static final class Load {
        private Load() {
        }

        public static void main(String[] args) throws Exception {
            java.net.InetSocketAddress gateway = new java.net.InetSocketAddress("127.0.0.1", Integer.parseInt(args[0]));
            int streams = Integer.parseInt(args[1]);
            int bytes = Integer.parseInt(args[2]);
            byte[] chunk = new byte[16 * 1024];
            CountDownLatch go = new CountDownLatch(1);
            try (TestOrigin origin = TestOrigin.start(socket -> {
                socket.getInputStream().read();             // the client's go
                OutputStream out = socket.getOutputStream();
                for (int sent = 0; sent < bytes; sent += chunk.length) {
                    out.write(chunk, 0, Math.min(chunk.length, bytes - sent));
                }
                socket.shutdownOutput();
                socket.getInputStream().read();
            })) {
                List<Socket> sockets = new ArrayList<>();
                for (int i = 0; i < streams; i++) {
                    Socket socket = Socks5Client.connect(gateway, "127.0.0.1", origin.port());
                    socket.setSoTimeout(120_000);
                    sockets.add(socket);
                }
                long[] nanos = new long[streams];
                java.util.concurrent.atomic.AtomicLongArray progress = new java.util.concurrent.atomic.AtomicLongArray(
                        streams);
                CountDownLatch done = new CountDownLatch(streams);
                for (int i = 0; i < streams; i++) {
                    int id = i;
                    Thread reader = new Thread(() -> {
                        try (Socket socket = sockets.get(id)) {
                            go.await();
                            long start = System.nanoTime();
                            socket.getOutputStream().write(1);
                            InputStream in = socket.getInputStream();
                            byte[] buffer = new byte[64 * 1024];
                            long got = 0;
                            for (int n; (n = in.read(buffer)) > 0; ) {
                                got += n;
                                progress.set(id, got);
                            }
                            if (got != bytes) {
                                throw new IllegalStateException("stream " + id + " got " + got + " bytes");
                            }
                            nanos[id] = System.nanoTime() - start;
                        } catch (Exception e) {
                            nanos[id] = -1;
                            System.err.println("stream " + id + ": " + e);
                        } finally {
                            done.countDown();
                        }
                    }, "reader-" + i);
                    reader.start();
                }
                long start = System.nanoTime();
                go.countDown();
                // The window in which every stream receives: from the last first byte to the first finish.
                long[] windowStart = null;
                long[] windowEnd = null;
                while (windowEnd == null && done.getCount() > 0) {
                    long[] now = new long[streams];
                    boolean allStarted = true;
                    boolean anyDone = false;
                    for (int i = 0; i < streams; i++) {
                        now[i] = progress.get(i);
                        allStarted &= now[i] > 0;
                        anyDone |= now[i] >= bytes;
                    }
                    if (windowStart == null && allStarted && !anyDone) {
                        windowStart = now;
                    } else if (windowStart != null && anyDone) {
                        windowEnd = now;
                    }
                    done.await(5, TimeUnit.MILLISECONDS);
                }
                if (!done.await(10, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("the downloads did not finish");
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                double[] rates = Arrays.stream(nanos).mapToDouble(n -> n > 0 ? bytes / (n / 1e9) : 0).sorted()
                        .toArray();
                double sum = Arrays.stream(rates).sum();
                double squares = Arrays.stream(rates).map(r -> r * r).sum();
                System.out.printf("streams %d × %d bytes in %.1f s (%.0f MB/s together)%n",
                        streams, bytes, seconds, (double) streams * bytes / seconds / 1e6);
                System.out.printf("per-stream rate MB/s: min %.2f, median %.2f, max %.2f; failed %d%n",
                        rates[0] / 1e6, rates[rates.length / 2] / 1e6, rates[rates.length - 1] / 1e6,
                        Arrays.stream(nanos).filter(n -> n < 0).count());
                System.out.printf("Jain's fairness index over each whole download: %.3f%n",
                        sum * sum / (rates.length * squares));
                if (windowStart != null && windowEnd != null) {
                    double wsum = 0;
                    double wsquares = 0;
                    for (int i = 0; i < streams; i++) {
                        double x = windowEnd[i] - windowStart[i];
                        wsum += x;
                        wsquares += x * x;
                    }
                    System.out.printf("Jain's fairness index while all %d streams receive: %.3f (%.1f MB moved)%n",
                            streams, wsum * wsum / (streams * wsquares), wsum / 1e6);
                } else {
                    System.out.println("no window in which every stream was receiving (one finished first)");
                }
            }
        }
    }
}
