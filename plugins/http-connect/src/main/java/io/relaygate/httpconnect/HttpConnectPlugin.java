package io.relaygate.httpconnect;

import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.PluginConfig;
import io.relaygate.spi.ProtocolEndpoint;
import io.relaygate.spi.ProtocolFactory;
import java.util.List;

/** Serves HTTP CONNECT on the mixed port as the protocol {@code httpConnect}, configured under {@code plugins.httpConnect}. */
public final class HttpConnectPlugin implements GatewayPlugin {

    /** Required by {@link java.util.ServiceLoader}. */
    public HttpConnectPlugin() {
    }

    @Override
    public String name() {
        return "http-connect";
    }

    @Override
    public List<ProtocolFactory> protocols() {
        return List.of(new Factory());
    }

    /** The HTTP CONNECT protocol, configured by {@code plugins.httpConnect}. */
    private static final class Factory implements ProtocolFactory {
        @Override
        public String name() {
            return "httpConnect";
        }

        @Override
        public ProtocolEndpoint create(PluginConfig config, GatewayContext context) {
            return new HttpConnectEndpoint(HttpConnectConfig.from(config));
        }
    }
}
