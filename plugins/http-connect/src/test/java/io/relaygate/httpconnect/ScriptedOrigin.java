package io.relaygate.httpconnect;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback HTTP/1.1 origin for raw tests of the forward proxy: it records every request (the head as received, the
 * body as received on the wire, its connection's number) and answers what a script says, byte for byte, so framing the
 * proxy must rewrite or pass on is under the test's control.
 */
final class ScriptedOrigin implements AutoCloseable {

    /** A request as the origin received it. */
    record Request(int connection, String head, byte[] rawBody) {
        String requestLine() {
            return head.substring(0, head.indexOf("\r\n"));
        }

        /** {@return the value of the first field named {@code name}, or null} */
        String field(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    /**
     * What to answer.
     *
     * @param bytes   the response, exactly as sent
     * @param close   close the connection after it
     * @param echo    after the response, echo everything until the end of stream (an upgraded connection)
     */
    record Reply(String bytes, boolean close, boolean echo) {
        static Reply of(String bytes) {
            return new Reply(bytes, false, false);
        }
    }

    interface Script {
        Reply answer(Request request);
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final Script script;

    ScriptedOrigin(Script script) throws IOException {
        this.script = script;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    int connections() {
        return connections.get();
    }

    /** {@return the next request received, within 10 s} */
    Request next() throws InterruptedException {
        Request r = requests.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no request reached the origin");
        }
        return r;
    }

    /** {@return a request received within {@code millis}, or null: for asserting that none came} */
    Request poll(long millis) throws InterruptedException {
        return requests.poll(millis, TimeUnit.MILLISECONDS);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                int number = connections.incrementAndGet();
                threads.execute(() -> serve(socket, number));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket, int number) {
        try (socket) {
            socket.setSoTimeout(20_000);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String lower = head.toLowerCase(Locale.ROOT);
                if (lower.contains("\r\nexpect: 100-continue")) {
                    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                if (lower.contains("\r\ntransfer-encoding: chunked")) {
                    readChunked(in, body);
                } else {
                    int at = lower.indexOf("\r\ncontent-length:");
                    if (at >= 0) {
                        int end = lower.indexOf("\r\n", at + 2);
                        long length = Long.parseLong(lower.substring(at + 17, end).trim());
                        for (long i = 0; i < length; i++) {
                            int b = in.read();
                            if (b < 0) {
                                return;
                            }
                            body.write(b);
                        }
                    }
                }
                Request request = new Request(number, head, body.toByteArray());
                requests.add(request);
                Reply reply = script.answer(request);
                out.write(reply.bytes().getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                if (reply.echo()) {
                    in.transferTo(out);
                    return;
                }
                if (reply.close()) {
                    return;
                }
            }
        } catch (IOException e) {
            // the proxy went away: this connection is done
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            int n = head.size();
            byte[] bytes = head.toByteArray();
            if (n >= 4 && bytes[n - 4] == '\r' && bytes[n - 3] == '\n' && bytes[n - 2] == '\r' && bytes[n - 1] == '\n') {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
    }

    /** Reads a chunked body as it is on the wire, trailers included. */
    private static void readChunked(InputStream in, ByteArrayOutputStream raw) throws IOException {
        while (true) {
            String sizeLine = readLine(in, raw);
            int semicolon = sizeLine.indexOf(';');
            long size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                while (!readLine(in, raw).isEmpty()) {
                    // trailer fields
                }
                return;
            }
            raw.write(in.readNBytes((int) size + 2));
        }
    }

    private static String readLine(InputStream in, ByteArrayOutputStream raw) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) >= 0; ) {
            raw.write(b);
            if (b == '\n') {
                return line.substring(0, line.length() - 1);
            }
            line.append((char) b);
        }
        throw new IOException("end of stream in a chunked body");
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
