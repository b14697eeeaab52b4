package io.relaygate.core;

import io.relaygate.core.config.ConfigError;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.net.Listener;
import io.relaygate.spi.ConfigException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a gateway checks about the network it is exposed to before and as it starts. */
final class Exposure {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    private Exposure() {
    }

    /**
     * An open proxy is never an accident: a listener without authentication stays on loopback unless allowed.
     *
     * @throws ConfigError naming {@code listen} otherwise
     */
    static void checkNotOpenProxy(GatewayConfig config, boolean authRequired) {
        if (authRequired || config.allowOpenProxy()) {
            return;
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(config.listen().host()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            loopback = false;
        }
        if (!loopback) {
            throw ConfigError.of(new ConfigException("listen", "\"" + config.listen()
                    + "\" would be an open proxy: no client authentication on a non-loopback address"
                    + " (expected: a loopback address, an accountStore, or --allow-open-proxy)"), config.settings());
        }
    }

    /** A plaintext link (linkTls.mode: off) belongs on loopback or a private network the operator trusts. */
    static void warnIfPlaintextLinkIsExposed(List<Listener> listeners) {
        for (Listener listener : listeners) {
            if (listener.name().equals("link") && !listener.address().getAddress().isLoopbackAddress()) {
                log.warn("************************************************************************************");
                log.warn("the link listener {} is not on loopback and linkTls.mode is off: user names and tunnel"
                        + " contents cross the network in the clear (passwords never do)",
                        listener.address());
                log.warn("************************************************************************************");
            }
        }
    }
}
