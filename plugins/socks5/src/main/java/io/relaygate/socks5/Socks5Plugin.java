package io.relaygate.socks5;

import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.PluginConfig;
import io.relaygate.spi.ProtocolEndpoint;
import io.relaygate.spi.ProtocolFactory;
import java.util.List;

/** Serves SOCKS5 on the mixed port. Its configuration section, {@code plugins.socks5}, has no keys yet. */
public final class Socks5Plugin implements GatewayPlugin {

    /** Required by {@link java.util.ServiceLoader}. */
    public Socks5Plugin() {
    }

    @Override
    public String name() {
        return "socks5";
    }

    @Override
    public List<ProtocolFactory> protocols() {
        return List.of(new Factory());
    }

    /** SOCKS5 has no settings: its section, {@code plugins.socks5}, must be empty. */
    private static final class Factory implements ProtocolFactory {
        @Override
        public String name() {
            return "socks5";
        }

        @Override
        public ProtocolEndpoint create(PluginConfig config, GatewayContext context) {
            return new Socks5Endpoint();
        }
    }
}
