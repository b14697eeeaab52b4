package io.relaygate.benchmarks;

import io.relaygate.core.Gateway;
import io.relaygate.httpconnect.HttpConnectPlugin;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
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
 * Download throughput over loopback: each operation reads 1 MiB from an origin that writes as fast as it can,
 * either directly ({@code path=direct}) or through a SOCKS5 tunnel of an in-process gateway ({@code path=gateway}).
 * Both paths run in the same fork, so their ratio is what to read; MiB/s = ops/s. One stream per benchmark thread:
 * {@code single} has 1, {@code parallel16} has 16.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dlogback.configurationFile=benchmark-logback.xml")
public class RelayThroughputBenchmark {

    /** The origin and the gateway, shared by all threads. */
    @State(Scope.Benchmark)
    public static class Path {
        @Param({"direct", "gateway"})
        public String path;

        TestOrigin origin;
        Gateway gateway;

        @Setup(Level.Trial)
        public void start() {
            origin = Blaster.start();
            if (path.equals("gateway")) {
                gateway = TestGateway.start(List.of(new Socks5Plugin(), new HttpConnectPlugin()),
                        "reactor.eventLoops", "0");
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            if (gateway != null) {
                gateway.close();
            }
            origin.close();
        }

        Socket open() throws IOException {
            if (gateway == null) {
                Socket socket = new Socket(InetAddress.getLoopbackAddress(), origin.port());
                socket.setSoTimeout(10_000);
                return socket;
            }
            return Socks5Client.connect(gateway.address("mixed"), "127.0.0.1", origin.port());
        }
    }

    /** One stream per benchmark thread. */
    @State(Scope.Thread)
    public static class Stream extends BlastStream {
        @Setup(Level.Trial)
        public void open(Path path) throws IOException {
            use(path.open());
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
