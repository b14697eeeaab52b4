package io.relaygate.core.plugin;

import io.relaygate.spi.GatewayPlugin;
import java.util.ArrayList;
import java.util.List;

/**
 * A discovered plugin and where it came from.
 *
 * @param plugin the plugin
 * @param source its jar or directory, or {@code class path}
 */
public record LoadedPlugin(GatewayPlugin plugin, String source) {

    /** {@return what the plugin contributes, e.g. {@code [protocol socks5]}} */
    public List<String> contributions() {
        List<String> kinds = new ArrayList<>();
        plugin.protocols().forEach(p -> kinds.add("protocol " + p.name()));
        plugin.accountStores().forEach(s -> kinds.add("accountStore " + s.name()));
        plugin.resolvers().forEach(r -> kinds.add("resolver " + r.name()));
        plugin.rateLimiters().forEach(r -> kinds.add("rateLimiter " + r.name()));
        plugin.consoles().forEach(c -> kinds.add("console " + c.name()));
        return kinds;
    }
}
