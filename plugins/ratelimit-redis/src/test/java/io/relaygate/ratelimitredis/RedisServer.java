package io.relaygate.ratelimitredis;

import io.relaygate.testkit.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

/**
 * A Redis server of the test's own (Debian's {@code redis-server}, the one that serves the machine), on a port of
 * its own, so that a test can stop and restart it without touching the machine's.
 */
public final class RedisServer implements AutoCloseable {

    private final int port;
    private final Path logFile;
    private Process process;
    private String password;

    public RedisServer(Path dir) throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        logFile = dir.resolve("redis-" + port + ".log");
    }

    public int port() {
        return port;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** Makes the server require {@code password} (AUTH) from its next start. */
    public RedisServer requirePassword(String password) {
        this.password = password;
        return this;
    }

    /** Starts the server, empty, and waits until it answers. */
    public RedisServer start() throws IOException {
        List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--logfile", logFile.toString()));
        if (password != null) {
            command.addAll(List.of("--requirepass", password));
        }
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Await.until("redis-server on port " + port + " answers", Duration.ofSeconds(10), this::answers);
        return this;
    }

    private boolean answers() {
        if (!process.isAlive()) {
            throw new AssertionError("redis-server exited with " + process.exitValue() + "; see " + logFile);
        }
        try (Jedis jedis = new Jedis("127.0.0.1", port, 1_000)) {
            if (password != null) {
                jedis.auth(password);
            }
            return "PONG".equals(jedis.ping());
        } catch (JedisException e) {
            return false;
        }
    }

    /** Kills the server as a crash would (SIGKILL): whatever it held is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("redis-server did not stop");
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            kill();
        }
    }
}
