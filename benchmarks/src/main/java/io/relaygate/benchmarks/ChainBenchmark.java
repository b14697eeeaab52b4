package io.relaygate.benchmarks;

import io.relaygate.core.Gateway;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * The local to remote chain in one JVM. {@code firstByte}: the time from connect to the first echoed byte of a new
 * tunnel, single-hop ({@code path=single}) against the chain over a plaintext link ({@code chain}) and over TLS 1.3
 * ({@code chain-tls}); every tunnel of the chain is a stream of the local's warm links (link version 2).
 * {@code single} / {@code parallel16}: MiB/s through each path, so TLS against plaintext on one link is a ratio of
 * one run.
 */
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dlogback.configurationFile=benchmark-logback.xml")
public class ChainBenchmark {

    /** The gateways and origins. */
    @State(Scope.Benchmark)
    public static class Chain {
        @Param({"single", "chain", "chain-tls"})
        public String path;

        TestOrigin echo;
        TestOrigin blaster;
        Gateway remote;
        Gateway local;

        @Setup(Level.Trial)
        public void start() throws IOException {
            echo = TestOrigin.start(socket -> {
                InputStream in = socket.getInputStream();
                int b;
                while ((b = in.read()) >= 0) {
                    socket.getOutputStream().write(b);
                }
            });
            blaster = Blaster.start();
            if (path.equals("single")) {
                local = TestGateway.start(List.of(new Socks5Plugin()), "reactor.eventLoops", "0");
                return;
            }
            MemoryAccounts accounts = new MemoryAccounts(4096).put("bench", "pw", true);
            boolean tls = path.equals("chain-tls");
            remote = TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts, new TokenBucketPlugin()),
                    "role", "remote", "accountStore", "memory", "allowDestination", "127.0.0.1/32", "reactor.eventLoops", "0",
                    "dataDir", Files.createTempDirectory("bench").toString(), "limits.authFailuresBeforeDelay", "0",
                    "linkTls.mode", tls ? "on" : "off");
            local = Gateway.builder(TestGateway.config("remote", "127.0.0.1:" + remote.address("link").getPort(),
                            "user", "bench", "reactor.eventLoops", "0",
                            tls ? "remoteFingerprint" : "linkTls.mode", tls ? remote.linkFingerprint() : "off"))
                    .plugins(List.of(new Socks5Plugin())).linkPassword("pw".getBytes(StandardCharsets.UTF_8)).start();
        }

        @TearDown(Level.Trial)
        public void stop() {
            local.close();
            if (remote != null) {
                remote.close();
            }
            echo.close();
            blaster.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int firstByte(Chain chain) throws IOException {
        try (Socket socket = Socks5Client.open(chain.local.address("mixed"))) {
            socket.getOutputStream().write(Socks5Client.greetingAndRequest("127.0.0.1", chain.echo.port()));
            DataInputStream in = new DataInputStream(socket.getInputStream());
            in.skipNBytes(2 + 10);
            socket.getOutputStream().write(1);
            return in.read();
        }
    }

    /** One stream through the chain per benchmark thread. */
    @State(Scope.Thread)
    public static class Stream extends BlastStream {
        @Setup(Level.Trial)
        public void open(Chain chain) throws IOException {
            use(Socks5Client.connect(chain.local.address("mixed"), "127.0.0.1", chain.blaster.port()));
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(1)
    public long single(Stream stream) throws IOException {
        return stream.readMiB();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(16)
    public long parallel16(Stream stream) throws IOException {
        return stream.readMiB();
    }
}
