package io.relaygate.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * Where the tests find PostgreSQL and Redis: the servers at {@code RELAYGATE_TEST_POSTGRES_URL} (default
 * {@code jdbc:postgresql://127.0.0.1:5432/test}) and {@code RELAYGATE_TEST_REDIS_URL} (default
 * {@code redis://127.0.0.1:6379}), as every machine of this project runs them; where one does not answer and a Docker
 * engine is there, a container that Testcontainers starts once per test JVM (and removes after it); otherwise a
 * failure that says how to start the server.
 */
public final class TestServices {

    private static final Map<String, String> STARTED = new ConcurrentHashMap<>();

    private TestServices() {
    }

    /** {@return the JDBC URL of a PostgreSQL with a database {@code test} that user {@code postgres} may use} */
    public static String postgresUrl() {
        return postgresUrl(env("RELAYGATE_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test"));
    }

    static String postgresUrl(String url) {
        URI address = URI.create(url.substring("jdbc:".length()));
        if (answers(address.getHost(), address.getPort() < 0 ? 5432 : address.getPort())) {
            return url;
        }
        return STARTED.computeIfAbsent("postgres", name -> {
            GenericContainer<?> container = start(new GenericContainer<>("postgres:16")
                    .withEnv("POSTGRES_HOST_AUTH_METHOD", "trust").withEnv("POSTGRES_DB", "test")
                    .withExposedPorts(5432)
                    .waitingFor(Wait.forLogMessage(".*ready to accept connections.*\\n", 2)), url,
                    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start");
            return "jdbc:postgresql://" + container.getHost() + ":" + container.getMappedPort(5432) + "/test";
        });
    }

    /** {@return the {@code redis://HOST:PORT} of a Redis} */
    public static String redisUrl() {
        return redisUrl(env("RELAYGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379"));
    }

    static String redisUrl(String url) {
        URI address = URI.create(url);
        if (answers(address.getHost(), address.getPort() < 0 ? 6379 : address.getPort())) {
            return url;
        }
        return STARTED.computeIfAbsent("redis", name -> {
            GenericContainer<?> container = start(new GenericContainer<>("redis:7").withExposedPorts(6379), url,
                    "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no");
            return "redis://" + container.getHost() + ":" + container.getMappedPort(6379);
        });
    }

    /** {@return the user for {@link #postgresUrl}: {@code RELAYGATE_TEST_POSTGRES_USER}, default {@code postgres}} */
    public static String postgresUser() {
        return env("RELAYGATE_TEST_POSTGRES_USER", "postgres");
    }

    private static GenericContainer<?> start(GenericContainer<?> container, String url, String startCommand) {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new AssertionError(url + " does not answer and there is no Docker engine for Testcontainers to "
                    + "start one: start the server (" + startCommand + ") or point the RELAYGATE_TEST_* variable at one");
        }
        container.start();
        return container;
    }

    private static boolean answers(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 1_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
