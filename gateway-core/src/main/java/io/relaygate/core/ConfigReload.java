package io.relaygate.core;

import io.relaygate.core.config.GatewayConfig;
import io.relaygate.spi.GatewayContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Which keys differ between two configurations, split into those a running gateway applies at once and those that
 * take a restart. docs/configuration.md has the same two lists; a key not named here is restart-only. Stateless.
 */
public final class ConfigReload {

    /**
     * What a reload found.
     *
     * @param live        changed keys the gateway applies at once, to what starts from now on
     * @param restartOnly changed keys that keep their running values until a restart
     */
    public record Changes(List<String> live, List<String> restartOnly) {
        public boolean isEmpty() {
            return live.isEmpty() && restartOnly.isEmpty();
        }
    }

    /** The keys applied while running, each with how to read it. */
    static final Map<String, Function<GatewayConfig, Object>> LIVE = new LinkedHashMap<>();
    /** Every other part of the configuration, by the key (or keys) that set it. */
    static final Map<String, Function<GatewayConfig, Object>> RESTART_ONLY = new LinkedHashMap<>();

    static {
        LIVE.put("allowDestination", c -> remote(c, GatewayConfig.RemoteConfig::allowDestinations));
        LIVE.put("timeouts.handshake", c -> c.timeouts().handshake());
        LIVE.put("timeouts.connect", c -> c.timeouts().connect());
        LIVE.put("timeouts.dns", c -> c.timeouts().dns());
        LIVE.put("timeouts.idle", c -> c.timeouts().idle());
        LIVE.put("timeouts.halfClosed", c -> c.timeouts().halfClosed());
        LIVE.put("timeouts.drain", c -> c.timeouts().drain());
        LIVE.put("limits.maxConnections", c -> c.limits().maxConnections());
        LIVE.put("limits.maxHandshakesPerSource", c -> c.limits().maxHandshakesPerSource());
        LIVE.put("limits.maxLinksPerUser", c -> c.limits().maxLinksPerUser());
        LIVE.put("limits.authFailuresBeforeDelay", c -> c.limits().authFailuresBeforeDelay());
        LIVE.put("limits.authFailuresBeforeRefusal", c -> c.limits().authFailuresBeforeRefusal());
        LIVE.put("udp.idle", c -> c.udp().idle());
        LIVE.put("udp.maxAssociationsPerUser", c -> c.udp().maxPerUser());
        LIVE.put("udp.maxAssociationsPerSource", c -> c.udp().maxPerSource());
        LIVE.put("udp.maxPacketsPerSecond", c -> c.udp().maxPacketsPerSecond());
        LIVE.put("rateLimit", c -> local(c, GatewayConfig.LocalConfig::rateLimit));
        LIVE.put("logLevel", GatewayConfig::logLevel);

        RESTART_ONLY.put("role", GatewayConfig::role);
        RESTART_ONLY.put("listen", GatewayConfig::listen);
        RESTART_ONLY.put("console", GatewayConfig::console);
        RESTART_ONLY.put("dataDir", GatewayConfig::dataDir);
        RESTART_ONLY.put("pluginsDir", GatewayConfig::pluginsDir);
        RESTART_ONLY.put("allowOpenProxy", GatewayConfig::allowOpenProxy);
        RESTART_ONLY.put("accountStore", GatewayConfig::accountStore);
        RESTART_ONLY.put("resolver", GatewayConfig::resolver);
        RESTART_ONLY.put("rateLimiter", GatewayConfig::rateLimiter);
        RESTART_ONLY.put("passwordIterations", GatewayConfig::passwordIterations);
        RESTART_ONLY.put("timeouts.idleLink", c -> c.timeouts().idleLink());
        RESTART_ONLY.put("limits.maxStreamsPerLink", c -> c.limits().maxStreamsPerLink());
        RESTART_ONLY.put("limits.streamWindow", c -> c.limits().streamWindow());
        RESTART_ONLY.put("limits.streamWindowMax", c -> c.limits().streamWindowMax());
        RESTART_ONLY.put("limits.linkWindowGrowth", c -> c.limits().linkWindowGrowth());
        RESTART_ONLY.put("reactor", GatewayConfig::reactor);
        RESTART_ONLY.put("udp.enabled", c -> c.udp().enabled());
        RESTART_ONLY.put("remote", c -> local(c, GatewayConfig.LocalConfig::remote));
        RESTART_ONLY.put("user", c -> local(c, GatewayConfig.LocalConfig::user));
        RESTART_ONLY.put("passwordFile", c -> local(c, GatewayConfig.LocalConfig::passwordFile));
        RESTART_ONLY.put("linkPool", c -> local(c, GatewayConfig.LocalConfig::linkPool));
        RESTART_ONLY.put("remoteFingerprint", c -> local(c, GatewayConfig.LocalConfig::remoteFingerprint));
        RESTART_ONLY.put("remoteCa", c -> local(c, GatewayConfig.LocalConfig::remoteCa));
        RESTART_ONLY.put("expose", c -> local(c, GatewayConfig.LocalConfig::exposed));
        RESTART_ONLY.put("directListen", c -> remote(c, GatewayConfig.RemoteConfig::directListen));
        RESTART_ONLY.put("trustedProxies", c -> remote(c, GatewayConfig.RemoteConfig::trustedProxies));
        RESTART_ONLY.put("linkTls", c -> c.role() == GatewayContext.Role.LOCAL
                ? local(c, GatewayConfig.LocalConfig::linkTls) : List.of(c.remoteRole().linkTls(),
                        String.valueOf(c.remoteRole().linkCertificate()), String.valueOf(c.remoteRole().linkKey())));
        RESTART_ONLY.put("reverse", c -> remote(c, r -> List.of(r.reverse().bind(), r.reverse().ports(),
                r.reverse().holdFor())));
        RESTART_ONLY.put("plugins", c -> List.of(c.settings().valuesUnder(GatewayConfig.PLUGINS + "."),
                c.settings().sectionsUnder(GatewayConfig.PLUGINS + ".")));
    }

    private ConfigReload() {
    }

    /**
     * {@return whether a reload applies {@code key} (a documented key such as {@code timeouts.idle} or
     * {@code plugins.sqlite.file}) while running; false for a restart-only key}
     *
     * @throws IllegalArgumentException for a key neither list covers
     */
    public static boolean appliesLive(String key) {
        if (LIVE.containsKey(key)) {
            return true;
        }
        for (String restart : RESTART_ONLY.keySet()) {
            if (key.equals(restart) || key.startsWith(restart + ".")) {
                return false;
            }
        }
        throw new IllegalArgumentException("no reload rule for " + key);
    }

    /** {@return the keys that differ, live ones measured against {@code live}, the rest against {@code started}} */
    static Changes compare(GatewayConfig started, GatewayConfig live, GatewayConfig next) {
        List<String> liveKeys = new ArrayList<>();
        if (started.role() != next.role()) {
            return new Changes(List.of(), List.of("role"));
        }
        LIVE.forEach((key, read) -> {
            if (!Objects.equals(read.apply(live), read.apply(next))) {
                liveKeys.add(key);
            }
        });
        List<String> restartKeys = new ArrayList<>();
        RESTART_ONLY.forEach((key, read) -> {
            if (!Objects.equals(read.apply(started), read.apply(next))) {
                restartKeys.add(key);
            }
        });
        return new Changes(List.copyOf(liveKeys), List.copyOf(restartKeys));
    }

    private static Object local(GatewayConfig c, Function<GatewayConfig.LocalConfig, Object> read) {
        return c.role() == GatewayContext.Role.LOCAL ? read.apply(c.local()) : null;
    }

    private static Object remote(GatewayConfig c, Function<GatewayConfig.RemoteConfig, Object> read) {
        return c.role() == GatewayContext.Role.REMOTE ? read.apply(c.remoteRole()) : null;
    }
}
