package io.relaygate.distribution;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;

/**
 * A loopback HTTP server for curl: {@code GET /bytes/N} answers N deterministic bytes; {@code PUT /upload} reads the
 * body and answers its size and SHA-256 hex.
 */
final class HttpOrigin implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(48);

    HttpOrigin(InetAddress loopback) throws IOException {
        if (!loopback.isLoopbackAddress()) {
            throw new IllegalArgumentException("loopback only");
        }
        server = HttpServer.create(new InetSocketAddress(loopback, 0), 64);
        server.createContext("/bytes/", exchange -> {
            long n = Long.parseLong(exchange.getRequestURI().getPath().substring("/bytes/".length()));
            exchange.sendResponseHeaders(200, n);
            try (OutputStream out = exchange.getResponseBody()) {
                generate(n, out::write);
            }
        });
        server.createContext("/upload", exchange -> {
            java.security.MessageDigest digest;
            try {
                digest = java.security.MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            long size = 0;
            byte[] buffer = new byte[64 * 1024];
            try (java.io.InputStream in = exchange.getRequestBody()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                    size += n;
                }
            }
            byte[] answer = (size + " " + java.util.HexFormat.of().formatHex(digest.digest()))
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
        server.setExecutor(executor);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** {@return the SHA-256 hex of what {@code /bytes/n} serves} */
    static String expectedSha256(long n) throws Exception {
        java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
        generate(n, digest::update);
        return java.util.HexFormat.of().formatHex(digest.digest());
    }

    /** Writes what {@code /bytes/n} serves to {@code file}. */
    static void writeBody(long n, java.nio.file.Path file) throws IOException {
        try (OutputStream out = java.nio.file.Files.newOutputStream(file)) {
            generate(n, out::write);
        }
    }

    /** Receives generated chunks. */
    private interface Sink {
        void accept(byte[] chunk, int offset, int length) throws IOException;
    }

    /** The body of {@code /bytes/n}: a linear congruential stream seeded with n, so any size has one digest. */
    private static void generate(long n, Sink sink) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        long seed = n;
        for (long left = n; left > 0; ) {
            for (int i = 0; i < chunk.length; i++) {
                seed = seed * 6364136223846793005L + 1442695040888963407L;
                chunk[i] = (byte) (seed >>> 56);
            }
            int size = (int) Math.min(left, chunk.length);
            sink.accept(chunk, 0, size);
            left -= size;
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
