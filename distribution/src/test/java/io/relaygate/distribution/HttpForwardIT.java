package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plain HTTP proxying through the built gateway with the clients people use it with: curl {@code -x} (GET, HEAD,
 * a chunked upload, keep-alive), wget with {@code http_proxy}, and {@code git clone} of a repository served over
 * dumb HTTP with {@code http.proxy}.
 */
@Timeout(180)
class HttpForwardIT {

    private static final long SIZE = 64L << 20;

    @TempDir
    static Path work;
    private static GatewayProcess gateway;
    private static HttpOrigin origin;
    private static String proxy;

    @BeforeAll
    static void start() throws Exception {
        gateway = GatewayProcess.startLocal(work);
        origin = new HttpOrigin(InetAddress.getByName("127.0.0.1"));
        proxy = "http://127.0.0.1:" + gateway.address("mixed").getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        origin.close();
    }

    private static String url(String path) {
        return "http://127.0.0.1:" + origin.port() + path;
    }

    @Test
    void curlDownloadsAndUploads64MebibytesByteExact() throws Exception {
        Curl.Result download = Curl.run(work, "-x", proxy, url("/bytes/" + SIZE));
        assertThat(download.exit()).as(download.stderr()).isZero();
        assertThat(download.size()).isEqualTo(SIZE);
        assertThat(download.sha256()).isEqualTo(HttpOrigin.expectedSha256(SIZE));

        Path file = work.resolve("upload.bin");
        HttpOrigin.writeBody(SIZE, file);
        Curl.Result chunked = Curl.run(work, "-x", proxy, "-H", "Transfer-Encoding: chunked", "--data-binary",
                "@" + file, url("/upload"));
        assertThat(chunked.exit()).as(chunked.stderr()).isZero();
        assertThat(chunked.body()).isEqualTo(SIZE + " " + HttpOrigin.expectedSha256(SIZE));
        Curl.Result sized = Curl.run(work, "-x", proxy, "-T", file.toString(), url("/upload"));
        assertThat(sized.body()).isEqualTo(SIZE + " " + HttpOrigin.expectedSha256(SIZE));
        Files.delete(file);
    }

    @Test
    void curlHeadAndKeepAlive() throws Exception {
        Curl.Result head = Curl.run(work, "-I", "-x", proxy, url("/bytes/1234"));
        assertThat(head.exit()).as(head.stderr()).isZero();
        assertThat(head.body()).startsWith("HTTP/1.1 200 ")
                .contains("Via: 1.1 relaygate");
        Curl.Result twice = Curl.run(work, "-v", "-x", proxy, url("/bytes/10"), "-o", "/dev/null",
                url("/bytes/20"));
        assertThat(twice.exit()).as(twice.stderr()).isZero();
        assertThat(twice.stderr()).contains("Re-using existing connection");
    }

    @Test
    void wgetWithHttpProxy() throws Exception {
        Path out = work.resolve("wget.bin");
        ProcessBuilder wget = new ProcessBuilder("wget", "-q", "-O", out.toString(), "--tries=1", "--timeout=30",
                url("/bytes/" + (4 << 20)))
                .redirectErrorStream(true).redirectOutput(work.resolve("wget.log").toFile());
        Map<String, String> env = wget.environment();
        env.put("http_proxy", proxy);
        env.remove("no_proxy");
        env.remove("NO_PROXY");
        Process process = wget.start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("wget finished").isTrue();
        assertThat(process.exitValue()).as(Files.readString(work.resolve("wget.log"))).isZero();
        assertThat(Files.size(out)).isEqualTo(4 << 20);
    }

    @Test
    void gitClonesARepositoryServedOverDumbHttp() throws Exception {
        Path source = work.resolve("source");
        git(work, "init", "-q", "-b", "main", source.toString());
        Files.writeString(source.resolve("README"), "served over dumb HTTP through the proxy\n");
        git(source, "add", "README");
        git(source, "-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-q", "-m", "first");
        Path bare = work.resolve("served/repo.git");
        git(work, "clone", "-q", "--bare", source.toString(), bare.toString());
        git(bare, "update-server-info");

        Queue<String> vias = new ConcurrentLinkedQueue<>();
        HttpServer files = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        Path root = work.resolve("served");
        files.createContext("/", exchange -> {
            vias.add(String.valueOf(exchange.getRequestHeaders().getFirst("Via")));
            Path file = root.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
            if (!file.startsWith(root) || !Files.isRegularFile(file)) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            byte[] body = Files.readAllBytes(file);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        files.start();
        try {
            Path clone = work.resolve("clone");
            git(work, "-c", "http.proxy=" + proxy, "clone", "-q", "http://127.0.0.1:" + files.getAddress().getPort()
                    + "/repo.git", clone.toString());
            assertThat(Files.readString(clone.resolve("README"))).isEqualTo(
                    "served over dumb HTTP through the proxy\n");
            assertThat(vias).isNotEmpty().allMatch(via -> via.equals("1.1 relaygate"));
        } finally {
            files.stop(0);
        }
    }

    private static void git(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(work.resolve("git.log").toFile());
        builder.environment().remove("no_proxy");
        builder.environment().remove("NO_PROXY");
        builder.environment().put("GIT_TERMINAL_PROMPT", "0");
        builder.environment().put("GIT_CONFIG_NOSYSTEM", "1");
        builder.environment().put("HOME", work.toString());
        Process process = builder.start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("git " + String.join(" ", args) + " finished").isTrue();
        assertThat(process.exitValue()).as("git " + String.join(" ", args) + ": " + Files.readString(
                work.resolve("git.log"), StandardCharsets.UTF_8)).isZero();
    }
}
