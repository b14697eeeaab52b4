/**
 * The plugin SPI: the only package of gateway-core that plugins may use.
 * <p>
 * Plugins are discovered with {@link java.util.ServiceLoader} as {@link io.relaygate.spi.GatewayPlugin}s, from the
 * class path and from the plugins directory. Unless a type says otherwise, methods never return {@code null}, and
 * the objects a plugin receives are implemented by the gateway; plugins must not implement them.
 */
package io.relaygate.spi;
