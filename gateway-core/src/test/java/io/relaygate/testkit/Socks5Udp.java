package io.relaygate.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A SOCKS5 UDP client as RFC 1928 §7 describes it: the control connection with UDP ASSOCIATE, then datagrams with
 * the UDP request header to the relay the reply names. For tests; blocking, with timeouts.
 */
public final class Socks5Udp implements AutoCloseable {

    /** A datagram received through the relay: the source its header named, and the data. */
    public record Received(InetSocketAddress source, byte[] data) {
    }

    private final Socket control;
    private final DatagramSocket socket;
    private final InetSocketAddress relay;

    private Socks5Udp(Socket control, DatagramSocket socket, InetSocketAddress relay) {
        this.control = control;
        this.socket = socket;
        this.relay = relay;
    }

    /**
     * Associates without authentication ({@code user} null) or with RFC 1929 credentials.
     *
     * @throws IOException with the reply code in the message if the gateway refuses
     */
    public static Socks5Udp associate(InetSocketAddress gateway, String user, String password) throws IOException {
        Socket control = Socks5Client.open(gateway);
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(gateway.getAddress(), 0));
        socket.setSoTimeout(5_000);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(user == null ? new byte[] {5, 1, 0} : new byte[] {5, 1, 2});
            if (user != null) {
                out.writeBytes(Socks5Client.auth(user, password));
            }
            byte[] address = socket.getLocalAddress().getAddress();
            out.writeBytes(new byte[] {5, 3, 0, (byte) (address.length == 4 ? 1 : 4)});
            out.writeBytes(address);
            out.write(socket.getLocalPort() >> 8);
            out.write(socket.getLocalPort());
            control.getOutputStream().write(out.toByteArray());
            DataInputStream in = new DataInputStream(control.getInputStream());
            byte[] selection = new byte[2];
            in.readFully(selection);
            if (user != null) {
                byte[] status = new byte[2];
                in.readFully(status);
                if (status[1] != 0) {
                    throw new IOException("SOCKS5 authentication failed");
                }
            }
            Socks5Client.Reply reply = Socks5Client.readReply(control);
            if (reply.code() != 0) {
                throw new IOException("SOCKS5 failure: reply " + reply.code());
            }
            return new Socks5Udp(control, socket, reply.bound());
        } catch (IOException | RuntimeException e) {
            control.close();
            socket.close();
            throw e;
        }
    }

    /** {@return the relay's address, as the reply named it} */
    public InetSocketAddress relay() {
        return relay;
    }

    public Socket control() {
        return control;
    }

    /** Sends {@code data} to {@code host:port} (a literal or a name) through the relay. */
    public void send(String host, int port, byte[] data) throws IOException {
        sendRaw(header(host, port, 0), data);
    }

    /** Sends a datagram with the given header bytes (malformed ones included) and data. */
    public void sendRaw(byte[] header, byte[] data) throws IOException {
        byte[] datagram = Arrays.copyOf(header, header.length + data.length);
        System.arraycopy(data, 0, datagram, header.length, data.length);
        socket.send(new DatagramPacket(datagram, datagram.length, relay));
    }

    /** {@return the UDP request header for {@code host:port} with fragment number {@code frag}} */
    public static byte[] header(String host, int port, int frag) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0, 0, (byte) frag});
        if (host.matches("[0-9.]+") || host.contains(":")) {
            byte[] address = InetAddress.getByName(host).getAddress();
            out.write(address.length == 4 ? 1 : 4);
            out.writeBytes(address);
        } else {
            byte[] name = host.getBytes(StandardCharsets.US_ASCII);
            out.write(3);
            out.write(name.length);
            out.writeBytes(name);
        }
        out.write(port >> 8);
        out.write(port);
        return out.toByteArray();
    }

    /** {@return the next datagram from the relay, its header decoded; null if none comes within {@code millis}} */
    public Received receive(int millis) throws IOException {
        byte[] buffer = new byte[70_000];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        socket.setSoTimeout(millis);
        try {
            socket.receive(packet);
        } catch (SocketTimeoutException e) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(buffer, 0, packet.getLength());
        if (in.get() != 0 || in.get() != 0 || in.get() != 0) {
            throw new IOException("bad reply header");
        }
        int type = in.get();
        byte[] address = new byte[type == 1 ? 4 : 16];
        in.get(address);
        int port = in.getShort() & 0xFFFF;
        byte[] data = new byte[in.remaining()];
        in.get(data);
        return new Received(new InetSocketAddress(InetAddress.getByAddress(address), port), data);
    }

    @Override
    public void close() throws IOException {
        socket.close();
        control.close();
    }
}
