package io.relaygate.spi;

/**
 * Creates the endpoint of an inbound protocol for one listener. Stateless; called once per listener at start.
 */
public interface ProtocolFactory {

    /**
     * {@return the protocol's name, e.g. {@code "socks5"}; also the key of its section under {@code plugins:} in the
     * configuration}
     */
    String name();

    /**
     * Creates the endpoint for one listener.
     *
     * @param config  this protocol's configuration section; read every key you accept (any other key fails the
     *                start)
     * @param context what the gateway lends to the plugin
     * @return a new endpoint
     * @throws ConfigException if the configuration is invalid; the gateway reports it with file and line, and exits 2
     */
    ProtocolEndpoint create(PluginConfig config, GatewayContext context);
}
