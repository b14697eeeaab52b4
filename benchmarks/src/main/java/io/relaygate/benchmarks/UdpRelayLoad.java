package io.relaygate.benchmarks;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Datagrams a SOCKS5 UDP relay carries a second: one client associates with the proxy (UDP ASSOCIATE, no
 * authentication), keeps {@code window} datagrams of {@code size} bytes in flight to a UDP echo server of this
 * process and counts the echoes that come back through the relay (each a datagram relayed each way). When no echo
 * comes for 20 ms with the window full, whatever is outstanding counts as lost and the window opens again. Run it in a process of its own, against any SOCKS5
 * proxy: the gateway or Dante's danted.
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar io.relaygate.benchmarks.UdpRelayLoad 127.0.0.1:1080 64 10 [64]}
 * prints {@code echoes/s lost/s} for a 10 s run after a 2 s warm-up.
 */
public final class UdpRelayLoad {

    private UdpRelayLoad() {
    }

    public static void main(String[] args) throws Exception {
        String[] proxy = args[0].split(":");
        int size = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int window = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        InetAddress loopback = InetAddress.getByName("127.0.0.1");

        DatagramChannel echo = DatagramChannel.open().bind(new InetSocketAddress(loopback, 0));
        Thread echoer = new Thread(() -> {
            ByteBuffer buffer = ByteBuffer.allocateDirect(65_536);
            try {
                while (true) {
                    buffer.clear();
                    var from = echo.receive(buffer);
                    buffer.flip();
                    echo.send(buffer, from);
                }
            } catch (IOException e) {
                // closed at the end
            }
        }, "echo");
        echoer.setDaemon(true);
        echoer.start();
        int echoPort = ((InetSocketAddress) echo.getLocalAddress()).getPort();

        try (Socket control = new Socket(proxy[0], Integer.parseInt(proxy[1]))) {
            OutputStream out = control.getOutputStream();
            out.write(new byte[] {5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0});
            DataInputStream in = new DataInputStream(control.getInputStream());
            byte[] reply = new byte[12];
            in.readFully(reply);
            if (reply[1] != 0 || reply[3] != 0) {
                throw new IOException("SOCKS5 refused: method " + reply[1] + ", reply " + reply[3]);
            }
            InetSocketAddress relay = new InetSocketAddress(InetAddress.getByAddress(new byte[] {reply[6], reply[7],
                    reply[8], reply[9]}), ((reply[10] & 0xFF) << 8) | (reply[11] & 0xFF));

            DatagramChannel client = DatagramChannel.open().bind(new InetSocketAddress(loopback, 0));
            client.connect(relay);
            ByteBuffer datagram = ByteBuffer.allocateDirect(10 + size);
            datagram.put(new byte[] {0, 0, 0, 1, 127, 0, 0, 1, (byte) (echoPort >> 8), (byte) echoPort});
            datagram.put(new byte[size]).flip();

            AtomicInteger outstanding = new AtomicInteger();
            LongAdder echoes = new LongAdder();
            LongAdder lost = new LongAdder();
            Thread[] senderThread = new Thread[1];
            Thread receiver = new Thread(() -> {
                ByteBuffer buffer = ByteBuffer.allocateDirect(65_536);
                try {
                    while (true) {
                        buffer.clear();
                        client.read(buffer);
                        echoes.increment();
                        outstanding.getAndUpdate(n -> Math.max(0, n - 1));
                        LockSupport.unpark(senderThread[0]);
                    }
                } catch (IOException e) {
                    // closed at the end
                }
            }, "receiver");
            receiver.setDaemon(true);
            AtomicBoolean running = new AtomicBoolean(true);
            Thread sender = new Thread(() -> {
                try {
                    while (running.get()) {
                        long waitedSince = System.nanoTime();
                        while (outstanding.get() >= window) {
                            LockSupport.parkNanos(1_000_000);
                            if (System.nanoTime() - waitedSince > 20_000_000L) {
                                lost.add(outstanding.getAndSet(0));     // the window's echoes never came
                            }
                        }
                        outstanding.incrementAndGet();
                        client.write(datagram.duplicate());
                    }
                } catch (IOException e) {
                    // stopping
                }
            }, "sender");
            senderThread[0] = sender;
            receiver.start();
            sender.start();
            Thread.sleep(2_000);
            long echoes0 = echoes.sum();
            long lost0 = lost.sum();
            long start = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            double elapsed = (System.nanoTime() - start) / 1e9;
            long e = echoes.sum() - echoes0;
            long l = lost.sum() - lost0;
            running.set(false);
            sender.join(1_000);
            client.close();
            System.out.printf("%.0f %.0f%n", e / elapsed, l / elapsed);
        } finally {
            echo.close();
        }
    }
}
