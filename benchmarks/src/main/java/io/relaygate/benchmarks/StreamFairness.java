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
 * over each stream's whole download (the origin starts every download at once, when the last client has asked), and
 * over the window in which every stream is receiving (from the moment the last stream got its first byte to the
 * moment the first one finished).
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar io.relaygate.benchmarks.StreamFairness 1000 1048576 [tls|plain]
 * [KEY=VALUE…]}
 */
public final class StreamFairness {

    private StreamFairness() {
    }

    public static void main(String[] args) throws Exception {
        int streams = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int bytes = args.length > 1 ? Integer.parseInt(args[1]) : 1 << 20;
        boolean tls = args.length < 3 || !args[2].equals("plain");
        // Further arguments KEY=VALUE configure both gateways, e.g. limits.streamWindowMax=256KiB.
        List<String> extra = new ArrayList<>();
        for (int i = 3; i < args.length; i++) {
            extra.addAll(Arrays.asList(args[i].split("=", 2)));
        }
        MemoryAccounts accounts = new MemoryAccounts(4096).put("bench", "pw", true);
        try (Gateway remote = TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts,
                new TokenBucketPlugin()), with(extra, "role", "remote", "accountStore", "memory", "allowDestination",
                "127.0.0.1/32", "dataDir", Files.createTempDirectory("fairness").toString(),
                "limits.maxConnections", "8192", "limits.maxHandshakesPerSource", "8192",
                "reactor.eventLoops", "1", "linkTls.mode", tls ? "on" : "off"));
             Gateway local = Gateway.builder(TestGateway.config(with(extra, "remote", "127.0.0.1:"
                             + remote.address("link").getPort(), "user", "bench", tls ? "remoteFingerprint" : "linkTls.mode",
                     tls ? remote.linkFingerprint() : "off", "linkPool", "1", "reactor.eventLoops", "1",
                     "limits.maxConnections", "8192", "limits.maxHandshakesPerSource", "8192")))
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

    /**
     * Endless downloads on every stream; once every stream has received, one second to settle, then Jain's index of
     * what each stream received in the next {@link #STEADY_SECONDS} seconds. The load's own sockets keep small
     * buffers, so that a thousand of them do not push the kernel's TCP memory into pressure, which throttles every
     * socket on the machine and measures the kernel instead.
     */
    private static void steady(java.net.InetSocketAddress gateway, int streams) throws Exception {
        byte[] chunk = new byte[16 * 1024];
        try (TestOrigin origin = TestOrigin.start(socket -> {
            socket.setSendBufferSize(SOCKET_BUFFER);
            socket.getInputStream().read();                 // the client's go, once every stream is open
            OutputStream out = socket.getOutputStream();
            try {
                while (true) {
                    out.write(chunk);
                }
            } catch (java.io.IOException closedByTheClient) {
                // the measurement is over
            }
        })) {
            List<Socket> sockets = new ArrayList<>();
            java.util.concurrent.atomic.AtomicLongArray progress = new java.util.concurrent.atomic.AtomicLongArray(
                    streams);
            for (int i = 0; i < streams; i++) {
                Socket socket = new Socket();
                socket.setReceiveBufferSize(SOCKET_BUFFER);
                socket.connect(gateway, 5_000);
                socket.getOutputStream().write(Socks5Client.greetingAndRequest("127.0.0.1", origin.port()));
                socket.getInputStream().readNBytes(2);
                if (Socks5Client.readReply(socket).code() != 0) {
                    throw new IllegalStateException("stream " + i + " was refused");
                }
                socket.setSoTimeout(120_000);
                sockets.add(socket);
            }
            // Every tunnel is open before any download starts: busy readers would starve the thread opening the rest.
            CountDownLatch allReceiving = new CountDownLatch(streams);
            for (int i = 0; i < streams; i++) {
                Socket socket = sockets.get(i);
                int id = i;
                Thread reader = new Thread(() -> {
                    byte[] buffer = new byte[64 * 1024];
                    try {
                        socket.getOutputStream().write(1);
                        InputStream in = socket.getInputStream();
                        for (int n; (n = in.read(buffer)) > 0; ) {
                            if (progress.getAndAdd(id, n) == 0) {
                                allReceiving.countDown();
                            }
                        }
                    } catch (java.io.IOException closed) {
                        // closed by the measurement's end
                    }
                }, "reader-" + i);
                reader.setDaemon(true);
                reader.start();
            }
            if (!allReceiving.await(2, TimeUnit.MINUTES)) {
                throw new IllegalStateException("not every stream received within 2 minutes");
            }
            // The two sleeps are the measurement: a second to settle, then the window the rates are taken over.
            Thread.sleep(1_000);
            long[] before = new long[streams];
            for (int i = 0; i < streams; i++) {
                before[i] = progress.get(i);
            }
            Thread.sleep(STEADY_SECONDS * 1_000L);
            double[] moved = new double[streams];
            for (int i = 0; i < streams; i++) {
                moved[i] = progress.get(i) - before[i];
            }
            for (Socket socket : sockets) {
                socket.close();
            }
            Arrays.sort(moved);
            double sum = Arrays.stream(moved).sum();
            double squares = Arrays.stream(moved).map(x -> x * x).sum();
            System.out.printf("streams %d, endless downloads, measured over %d s once all received: %.0f MB/s"
                    + " together%n", streams, STEADY_SECONDS, sum / STEADY_SECONDS / 1e6);
            System.out.printf("per-stream rate MB/s: min %.3f, median %.3f, max %.3f%n",
                    moved[0] / STEADY_SECONDS / 1e6, moved[streams / 2] / STEADY_SECONDS / 1e6,
                    moved[streams - 1] / STEADY_SECONDS / 1e6);
            System.out.printf("Jain's fairness index in steady state: %.3f%n", sum * sum / (streams * squares));
        }
    }

    private static final int STEADY_SECONDS = 3;
    private static final int SOCKET_BUFFER = 64 * 1024;

    private static String[] with(List<String> extra, String... settings) {
        List<String> all = new ArrayList<>(Arrays.asList(settings));
        all.addAll(extra);
        return all.toArray(String[]::new);
    }

    /** The load process: an origin that sends each client {@code bytes}, and the clients through the local. */
    public static final class Load {
        private Load() {
        }

        public static void main(String[] args) throws Exception {
            java.net.InetSocketAddress gateway = new java.net.InetSocketAddress("127.0.0.1", Integer.parseInt(args[0]));
            int streams = Integer.parseInt(args[1]);
            int bytes = Integer.parseInt(args[2]);
            if (bytes == 0) {
                steady(gateway, streams);
                return;
            }
            byte[] chunk = new byte[16 * 1024];
            CountDownLatch go = new CountDownLatch(1);
            // Every download starts at once: the origin sends nothing until every client has asked, so a thread
            // that happened to wake first does not count as a stream that was served first.
            CountDownLatch asked = new CountDownLatch(streams);
            try (TestOrigin origin = TestOrigin.start(socket -> {
                socket.getInputStream().read();             // the client's go
                asked.countDown();
                try {
                    asked.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
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
                long[] finished = new long[streams];
                java.util.concurrent.atomic.AtomicLongArray progress = new java.util.concurrent.atomic.AtomicLongArray(
                        streams);
                CountDownLatch done = new CountDownLatch(streams);
                for (int i = 0; i < streams; i++) {
                    int id = i;
                    Thread reader = new Thread(() -> {
                        try (Socket socket = sockets.get(id)) {
                            go.await();
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
                            finished[id] = System.nanoTime();
                        } catch (Exception e) {
                            finished[id] = -1;
                            System.err.println("stream " + id + ": " + e);
                        } finally {
                            done.countDown();
                        }
                    }, "reader-" + i);
                    reader.start();
                }
                go.countDown();
                if (!asked.await(5, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("the clients did not all ask");
                }
                long start = System.nanoTime();
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
                double[] rates = Arrays.stream(finished).mapToDouble(f -> f > 0 ? bytes / ((f - start) / 1e9) : 0)
                        .sorted().toArray();
                double sum = Arrays.stream(rates).sum();
                double squares = Arrays.stream(rates).map(r -> r * r).sum();
                System.out.printf("streams %d × %d bytes in %.1f s (%.0f MB/s together)%n",
                        streams, bytes, seconds, (double) streams * bytes / seconds / 1e6);
                System.out.printf("per-stream rate MB/s: min %.2f, median %.2f, max %.2f; failed %d%n",
                        rates[0] / 1e6, rates[rates.length / 2] / 1e6, rates[rates.length - 1] / 1e6,
                        Arrays.stream(finished).filter(f -> f < 0).count());
                System.out.printf("Jain's fairness index over each whole download, all started together: %.3f%n",
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
