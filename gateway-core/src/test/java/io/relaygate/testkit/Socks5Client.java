package io.relaygate.testkit;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.io.ByteArrayOutputStream;

/** A minimal blocking SOCKS5 client for tests, every read bounded by a socket timeout. */
public final class Socks5Client {

    /** The reply a SOCKS5 server sent to a request. */
    public record Reply(int code, InetSocketAddress bound) {
    }

    private Socks5Client() {
    }

    /** {@return a socket to the gateway with a 10 s read timeout} */
    public static Socket open(InetSocketAddress gateway) throws IOException {
        Socket socket = new Socket();
        socket.connect(gateway, 5_000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        return socket;
    }

    /** {@return the greeting + CONNECT request bytes for a domain name, without authentication} */
    public static byte[] greetingAndRequest(String host, int port) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {5, 1, 0});
        out.writeBytes(request(host, port));
        return out.toByteArray();
    }

    /** {@return a CONNECT request: IP literals as ATYP 1 or 4, anything else as a domain name} */
    public static byte[] request(String host, int port) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {5, 1, 0});
        byte[] literal = literal(host);
        if (literal != null) {
            out.write(literal.length == 4 ? 1 : 4);
            out.writeBytes(literal);
        } else {
            byte[] name = host.getBytes(StandardCharsets.ISO_8859_1);
            out.write(3);
            out.write(name.length);
            out.writeBytes(name);
        }
        out.write(port >> 8);
        out.write(port & 0xFF);
        return out.toByteArray();
    }

    /** {@return an RFC 1929 authentication request} */
    public static byte[] auth(String user, String password) {
        byte[] u = user.getBytes(StandardCharsets.UTF_8);
        byte[] p = password.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(1);
        out.write(u.length);
        out.writeBytes(u);
        out.write(p.length);
        out.writeBytes(p);
        return out.toByteArray();
    }

    /** Reads a CONNECT reply. */
    public static Reply readReply(Socket socket) throws IOException {
        DataInputStream in = new DataInputStream(socket.getInputStream());
        int version = in.readUnsignedByte();
        if (version != 5) {
            throw new IOException("bad reply version " + version);
        }
        int code = in.readUnsignedByte();
        in.readUnsignedByte();
        int type = in.readUnsignedByte();
        byte[] address = new byte[type == 4 ? 16 : 4];
        in.readFully(address);
        int port = in.readUnsignedShort();
        return new Reply(code, new InetSocketAddress(InetAddress.getByAddress(address), port));
    }

    /**
     * Opens a tunnel without authentication.
     *
     * @return the socket, relaying to {@code host:port}
     * @throws IOException if the gateway answers with a failure code (the code is in the message)
     */
    public static Socket connect(InetSocketAddress gateway, String host, int port) throws IOException {
        Socket socket = open(gateway);
        socket.getOutputStream().write(greetingAndRequest(host, port));
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] selection = new byte[2];
        in.readFully(selection);
        Reply reply = readReply(socket);
        if (selection[1] != 0 || reply.code() != 0) {
            socket.close();
            throw new IOException("SOCKS5 failure: method " + selection[1] + ", reply " + reply.code());
        }
        return socket;
    }

    private static byte[] literal(String host) {
        if (host.matches("\\d{1,3}(\\.\\d{1,3}){3}") || host.contains(":")) {
            try {
                return InetAddress.getByName(host).getAddress();
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }
}
