package io.relaygate.benchmarks;

import io.relaygate.core.Gateway;
import io.relaygate.httpconnect.HttpConnectPlugin;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestGateway;
import io.relaygate.testkit.TestOrigin;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * New tunnels per second over loopback: connect, handshake, one byte each way, close. {@code direct} is the same
 * exchange with the origin without a gateway, the baseline of the same run.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dlogback.configurationFile=benchmark-logback.xml")
@State(Scope.Benchmark)
public class HandshakeBenchmark {

    private TestOrigin origin;
    private Gateway gateway;
    private byte[] connectHead;
    private byte[] socksRequest;

    @Setup(Level.Trial)
    public void start() {
        origin = TestOrigin.start(socket -> {
            int b = socket.getInputStream().read();
            socket.getOutputStream().write(b);
        });
        gateway = TestGateway.start(List.of(new Socks5Plugin(), new HttpConnectPlugin()), "reactor.eventLoops", "0");
        connectHead = ("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        socksRequest = Socks5Client.greetingAndRequest("127.0.0.1", origin.port());
    }

    @TearDown(Level.Trial)
    public void stop() {
        gateway.close();
        origin.close();
    }

    @Benchmark
    public int direct() throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), origin.port())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(1);
            return socket.getInputStream().read();
        }
    }

    @Benchmark
    public int socks5() throws IOException {
        try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
            socket.getOutputStream().write(socksRequest);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            in.skipNBytes(2 + 10);          // method selection, IPv4 reply
            socket.getOutputStream().write(1);
            return in.read();
        }
    }

    @Benchmark
    public int httpConnect() throws IOException {
        try (Socket socket = Socks5Client.open(gateway.address("mixed"))) {
            socket.getOutputStream().write(connectHead);
            InputStream in = socket.getInputStream();
            in.skipNBytes("HTTP/1.1 200 Connection established\r\n\r\n".length());
            socket.getOutputStream().write(1);
            return in.read();
        }
    }
}
