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
 * Fairness of one link's streams: N clients download the same number of bytes at once through a local and a remote
 * gateway chained over TLS 1.3, all on one link (one event loop, {@code linkPool} 1), and Jain's fairness index of
 * their download rates is printed ((Σx)² / (n·Σx²): 1 when every stream got the same rate, 1/n when one got all).
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar io.relaygate.benchmarks.StreamFairness 1000 1048576}
 */
public final class StreamFairness {

    private StreamFairness() {
    }

    public static void main(String[] args) throws Exception {
        int streams = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int bytes = args.length > 1 ? Integer.parseInt(args[1]) : 1 << 20;
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
            MemoryAccounts accounts = new MemoryAccounts(4096).put("bench", "pw", true);
            try (Gateway remote = TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts,
                    new TokenBucketPlugin()), "role", "remote", "accountStore", "memory", "allowDestination",
                    "127.0.0.1/32", "dataDir", Files.createTempDirectory("fairness").toString(),
                    "limits.maxConnections", "8192", "limits.maxHandshakesPerSource", "8192",
                    "reactor.eventLoops", "1");
                 Gateway local = Gateway.builder(TestGateway.config("remote", "127.0.0.1:"
                                 + remote.address("link").getPort(), "user", "bench", "remoteFingerprint",
                         remote.linkFingerprint(), "linkPool", "1", "reactor.eventLoops", "1",
                         "limits.maxConnections", "8192", "limits.maxHandshakesPerSource", "8192"))
                         .plugins(List.of(new Socks5Plugin())).linkPassword("pw".getBytes(StandardCharsets.UTF_8))
                         .start()) {
                List<Socket> sockets = new ArrayList<>();
                for (int i = 0; i < streams; i++) {
                    sockets.add(Socks5Client.connect(local.address("mixed"), "127.0.0.1", origin.port()));
                }
                long[] nanos = new long[streams];
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
                            }
                            if (got != bytes) {
                                throw new IllegalStateException("stream " + id + " got " + got + " bytes");
                            }
                            nanos[id] = System.nanoTime() - start;
                        } catch (Exception e) {
                            nanos[id] = -1;
                            e.printStackTrace();
                        } finally {
                            done.countDown();
                        }
                    }, "reader-" + i);
                    reader.start();
                }
                long start = System.nanoTime();
                go.countDown();
                if (!done.await(10, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("the downloads did not finish");
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                double[] rates = Arrays.stream(nanos).mapToDouble(n -> n > 0 ? bytes / (n / 1e9) : 0).sorted()
                        .toArray();
                double sum = Arrays.stream(rates).sum();
                double squares = Arrays.stream(rates).map(r -> r * r).sum();
                double jain = sum * sum / (rates.length * squares);
                System.out.printf("streams %d × %d bytes over one TLS link in %.1f s (%.0f MB/s together)%n",
                        streams, bytes, seconds, (double) streams * bytes / seconds / 1e6);
                System.out.printf("per-stream rate MB/s: min %.2f, median %.2f, max %.2f; failed %d%n",
                        rates[0] / 1e6, rates[rates.length / 2] / 1e6, rates[rates.length - 1] / 1e6,
                        Arrays.stream(nanos).filter(n -> n < 0).count());
                System.out.printf("Jain's fairness index: %.3f%n", jain);
            }
        }
    }
}
