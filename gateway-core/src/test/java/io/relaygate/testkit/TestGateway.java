package io.relaygate.testkit;

import io.relaygate.core.Gateway;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.config.Settings;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.Resolver;
import java.nio.file.Path;
import java.util.List;

/** Starts in-process gateways on 127.0.0.1:0 with the plugins and settings a test names. */
public final class TestGateway {

    private TestGateway() {
    }

    /**
     * Starts a gateway.
     *
     * @param plugins  the plugins it uses
     * @param settings key, value, key, value… (e.g. {@code "timeouts.handshake", "500ms"}), over the defaults and
     *                 {@code listen: 127.0.0.1:0}, {@code console: off}
     */
    public static Gateway start(List<GatewayPlugin> plugins, String... settings) {
        return start(plugins, null, settings);
    }

    /** Starts a gateway whose resolver is {@code resolver}. */
    public static Gateway start(List<GatewayPlugin> plugins, Resolver resolver, String... settings) {
        return Gateway.builder(config(settings)).plugins(plugins).resolver(resolver).start();
    }

    /** {@return a configuration: the defaults, {@code listen: 127.0.0.1:0}, {@code console: off}, then settings} */
    public static GatewayConfig config(String... settings) {
        Settings s = Settings.empty()
                .with("listen", "127.0.0.1:0", "test")
                .with("console", "off", "test")
                .with("reactor.eventLoops", "2", "test");
        for (int i = 0; i < settings.length; i += 2) {
            s = s.with(settings[i], settings[i + 1], "test");
        }
        return GatewayConfig.from(s, Path.of("target"));
    }
}
