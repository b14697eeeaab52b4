package io.relaygate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.core.config.ConfigError;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.PluginConfig;
import io.relaygate.spi.ProtocolEndpoint;
import io.relaygate.spi.ProtocolFactory;
import io.relaygate.testkit.LineProtocol;
import io.relaygate.testkit.TestGateway;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A part's section: what the plugin reads is what it gets, and a key it did not read fails the start. */
class PluginSectionTest {

    /** The line protocol, reading one key of its section. */
    private static final class Configured implements GatewayPlugin, ProtocolFactory {
        final AtomicReference<Duration> read = new AtomicReference<>();

        @Override
        public String name() {
            return "line";
        }

        @Override
        public List<ProtocolFactory> protocols() {
            return List.of(this);
        }

        @Override
        public ProtocolEndpoint create(PluginConfig config, GatewayContext context) {
            read.set(config.getDuration("pause", Duration.ZERO, Duration.ZERO, Duration.ofMinutes(1)));
            return new LineProtocol();
        }
    }

    @Test
    void aKeyThePluginReadIsAccepted() {
        Configured plugin = new Configured();
        try (Gateway gateway = TestGateway.start(List.of(plugin), "plugins.line.pause", "250ms")) {
            assertThat(gateway.listeners()).isNotEmpty();
        }
        assertThat(plugin.read.get()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void aKeyNoPartReadFailsTheStartNamingIt() {
        assertThatThrownBy(() -> TestGateway.start(List.of(new Configured()), "plugins.line.pasue", "250ms"))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("plugins.line.pasue: unknown key");
    }
}
