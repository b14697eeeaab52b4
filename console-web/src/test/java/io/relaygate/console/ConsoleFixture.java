package io.relaygate.console;

import io.relaygate.core.Gateway;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.socks5.Socks5Plugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A gateway with the console on an OS-chosen loopback port, and an HTTP client that speaks to it. */
final class ConsoleFixture implements AutoCloseable {

    static final String TOKEN = "test-admin-token-0123456789";

    final Gateway gateway;
    final MemoryAccounts accounts;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ConsoleFixture(Gateway gateway, MemoryAccounts accounts) {
        this.gateway = gateway;
        this.accounts = accounts;
    }

    /** A remote with a direct SOCKS5 listener (so tests can run a user's tunnel without a local). */
    static ConsoleFixture remote(Path data, String... extra) {
        List<String> settings = new ArrayList<>(List.of("role", "remote", "accountStore", "memory",
                "dataDir", data.toString(), "passwordIterations", "64", "console", "127.0.0.1:0",
                "directListen", "127.0.0.1:0", "allowDestination", "127.0.0.1/32",
                "plugins.console.token", TOKEN));
        settings.addAll(List.of(extra));
        MemoryAccounts accounts = new MemoryAccounts(64);
        Gateway gateway = TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), accounts,
                new TokenBucketPlugin(), new ConsolePlugin()), settings.toArray(String[]::new));
        return new ConsoleFixture(gateway, accounts);
    }

    /** A local proxy in direct mode whose console makes (or reads) {@code admin.token} in {@code data}. */
    static ConsoleFixture localWithoutToken(Path data) {
        return new ConsoleFixture(TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), new ConsolePlugin()),
                "dataDir", data.toString(), "console", "127.0.0.1:0"), new MemoryAccounts());
    }

    /** A local proxy in direct mode with its console. */
    static ConsoleFixture local(Path data, String... extra) {
        List<String> settings = new ArrayList<>(List.of("dataDir", data.toString(), "console", "127.0.0.1:0",
                "plugins.console.token", TOKEN));
        settings.addAll(List.of(extra));
        return new ConsoleFixture(TestGateway.start(List.<GatewayPlugin>of(new Socks5Plugin(), new ConsolePlugin()),
                settings.toArray(String[]::new)), new MemoryAccounts());
    }

    /** A local proxy with its console that logs in to a remote with {@code password}. */
    static ConsoleFixture localWithPassword(Path data, String password, String... extra) {
        List<String> settings = new ArrayList<>(List.of("dataDir", data.toString(), "console", "127.0.0.1:0",
                "plugins.console.token", TOKEN));
        settings.addAll(List.of(extra));
        return new ConsoleFixture(Gateway.builder(TestGateway.config(settings.toArray(String[]::new)))
                .plugins(List.<GatewayPlugin>of(new Socks5Plugin(), new ConsolePlugin()))
                .linkPassword(password.getBytes(java.nio.charset.StandardCharsets.UTF_8)).start(),
                new MemoryAccounts());
    }

    String base() {
        return "http://127.0.0.1:" + gateway.consoleAddress().getPort();
    }

    HttpResponse<String> send(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> send(String method, String path, String body) throws Exception {
        return send(method, path, body, TOKEN);
    }

    /** Opens a SOCKS5 tunnel through the remote's direct listener as {@code user}. */
    Socket tunnel(String user, String password, int port) throws IOException {
        Socket socket = Socks5Client.open(gateway.address("direct"));
        ByteArrayOutputStream hello = new ByteArrayOutputStream();
        hello.writeBytes(new byte[] {5, 1, 2});
        hello.writeBytes(Socks5Client.auth(user, password));
        hello.writeBytes(Socks5Client.request("127.0.0.1", port));
        socket.getOutputStream().write(hello.toByteArray());
        byte[] methodAndAuth = new byte[4];
        new DataInputStream(socket.getInputStream()).readFully(methodAndAuth);
        if (methodAndAuth[3] != 0 || Socks5Client.readReply(socket).code() != 0) {
            socket.close();
            throw new IOException("tunnel refused for " + user);
        }
        return socket;
    }

    @Override
    public void close() {
        gateway.close();
    }
}
