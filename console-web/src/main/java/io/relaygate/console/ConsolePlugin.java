package io.relaygate.console;

import io.relaygate.spi.AdminApi;
import io.relaygate.spi.ConsoleFactory;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.PluginConfig;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Offers the web console, configured under {@code plugins.console}: {@code token} (the admin token; default: generated
 * into {@code <data-dir>/admin.token}), {@code allowedOrigins} (pages on other origins that may open the stats
 * WebSocket), {@code maxBodySize} (default 64KiB), {@code wsMaxQueued} (default 256KiB).
 */
public final class ConsolePlugin implements GatewayPlugin {

    /** Required by {@link java.util.ServiceLoader}. */
    public ConsolePlugin() {
    }

    @Override
    public String name() {
        return "console-web";
    }

    @Override
    public List<ConsoleFactory> consoles() {
        return List.of(new Factory());
    }

    /** The web console, configured by {@code plugins.console}. */
    private static final class Factory implements ConsoleFactory {
        @Override
        public String name() {
            return "console";
        }

        @Override
        public Console start(PluginConfig config, AdminApi admin, InetSocketAddress bind) {
            return ConsoleServer.start(ConsoleSettings.from(config), admin, bind);
        }
    }
}
