package io.relaygate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;

/** Where the tests find their servers: the configured one when it answers, else a container, else a clear failure. */
class TestServicesTest {

    @Test
    void aServerThatAnswersIsUsedAsConfigured() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String url = "redis://127.0.0.1:" + server.getLocalPort();
            assertThat(TestServices.redisUrl(url)).isEqualTo(url);
            String jdbc = "jdbc:postgresql://127.0.0.1:" + server.getLocalPort() + "/test";
            assertThat(TestServices.postgresUrl(jdbc)).isEqualTo(jdbc);
        }
    }

    @Test
    void aServerThatDoesNotAnswerIsStartedInDockerOrNamedWithItsStartCommand() throws Exception {
        int closed;
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = server.getLocalPort();
        }
        String url = "redis://127.0.0.1:" + closed;
        if (DockerClientFactory.instance().isDockerAvailable()) {
            URI started = URI.create(TestServices.redisUrl(url));
            assertThat(started.getPort()).as("a container's mapped port").isNotEqualTo(closed);
        } else {
            assertThatThrownBy(() -> TestServices.redisUrl(url)).isInstanceOf(AssertionError.class)
                    .hasMessageContaining(url + " does not answer").hasMessageContaining("redis-server --daemonize yes");
        }
    }
}
