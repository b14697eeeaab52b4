package io.relaygate.benchmarks;

import io.relaygate.core.Gateway;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What shaping costs a tunnel that is not limited: 1 MiB downloads through a remote's direct listener by a user
 * with rate 0, with no rate limiter ({@code limiter=none}), with the token bucket present ({@code unlimited}: the
 * fast path, one volatile read per read), and with a rate far above what loopback reaches ({@code granting}: a
 * compare-and-set per read). Same fork, so read the ratios; MiB/s = ops/s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dlogback.configurationFile=benchmark-logback.xml")
public class ShapingOverheadBenchmark {

    /** The origin and a remote gateway, shared by all threads. */
    @State(Scope.Benchmark)
    public static class Remote {
        @Param({"none", "unlimited", "granting"})
        public String limiter;

        TestOrigin origin;
        Gateway gateway;

        @Setup(Level.Trial)
        public void start() throws IOException {
            origin = Blaster.start();
            MemoryAccounts accounts = new MemoryAccounts(4096).put("bench", "pw", true);
            List<GatewayPlugin> plugins = new ArrayList<>(List.of(new Socks5Plugin(), accounts));
            plugins.add(new TokenBucketPlugin());
            gateway = TestGateway.start(plugins, "role", "remote", "accountStore", "memory",
                    "rateLimiter", limiter.equals("none") ? "none" : "tokenBucket",
                    "directListen", "127.0.0.1:0", "allowDestination", "127.0.0.1/32", "reactor.eventLoops", "0",
                    "dataDir", Files.createTempDirectory("bench").toString());
            if (limiter.equals("granting")) {
                accounts.rate("bench", 1L << 40);       // a terabyte per second: every read takes tokens
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            gateway.close();
            origin.close();
        }

        Socket open() throws IOException {
            Socket socket = Socks5Client.open(gateway.address("direct"));
            ByteArrayOutputStream hello = new ByteArrayOutputStream();
            hello.writeBytes(new byte[] {5, 1, 2});
            hello.writeBytes(Socks5Client.auth("bench", "pw"));
            hello.writeBytes(Socks5Client.request("127.0.0.1", origin.port()));
            socket.getOutputStream().write(hello.toByteArray());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            in.readFully(new byte[4]);              // method choice, then the login's outcome
            if (Socks5Client.readReply(socket).code() != 0) {
                throw new IOException("the tunnel was refused");
            }
            return socket;
        }
    }

    /** One stream per benchmark thread. */
    @State(Scope.Thread)
    public static class Stream extends BlastStream {
        @Setup(Level.Trial)
        public void open(Remote remote) throws IOException {
            use(remote.open());
        }
    }

    @Benchmark
    @Threads(1)
    public long single(Stream stream) throws IOException {
        return stream.readMiB();
    }

    @Benchmark
    @Threads(16)
    public long parallel16(Stream stream) throws IOException {
        return stream.readMiB();
    }
}
