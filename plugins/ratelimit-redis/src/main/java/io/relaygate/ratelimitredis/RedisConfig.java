package io.relaygate.ratelimitredis;

import io.relaygate.spi.ConfigException;
import io.relaygate.spi.PluginConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * The Redis limiter's settings, {@code plugins.redis}.
 *
 * @param host        Redis's host
 * @param port        its port
 * @param database    the database number
 * @param password    the password from the URL's user part, or null
 * @param leaseSize   the most one lease asks for, in bytes
 * @param burstSeconds a user's burst as a duration of their rate, shared by the whole cluster
 * @param minBurst    the burst's floor in bytes
 * @param timeout     how long connecting to Redis or one round trip may take before Redis counts as away
 * @param keyPrefix   the start of every key this limiter writes, so that clusters can share one Redis
 */
record RedisConfig(String host, int port, int database, String password, long leaseSize, double burstSeconds,
                   long minBurst, Duration timeout, String keyPrefix) {

    static final String DEFAULT_URL = "redis://127.0.0.1:6379";

    static RedisConfig from(PluginConfig c) {
        String key = c.path() + ".url";
        String url = c.getString("url", DEFAULT_URL);
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw invalid(key, url);
        }
        if (!"redis".equals(uri.getScheme()) || uri.getHost() == null || uri.getQuery() != null) {
            throw invalid(key, url);
        }
        int database = 0;
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw invalid(key, url);
            }
            if (database < 0 || database > 15) {
                throw invalid(key, url);
            }
        }
        String password = null;
        if (uri.getUserInfo() != null) {
            String info = uri.getUserInfo();
            password = info.substring(info.indexOf(':') + 1);
        }
        Duration burst = c.getDuration("burst", Duration.ofMillis(200), Duration.ofMillis(1), Duration.ofSeconds(60));
        String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1)
                : uri.getHost();                        // an IPv6 literal, without its brackets
        return new RedisConfig(host, uri.getPort() < 0 ? 6379 : uri.getPort(), database, password,
                c.getSize("leaseSize", 256 * 1024, 4 * 1024, 64L << 20), burst.toNanos() / 1e9,
                c.getSize("minBurst", 64 * 1024, 1, 1L << 30),
                c.getDuration("timeout", Duration.ofMillis(500), Duration.ofMillis(10), Duration.ofSeconds(30)),
                c.getString("keyPrefix", "relaygate:"));
    }

    private static ConfigException invalid(String key, String url) {
        // The URL may carry a password: the message names only its shape.
        return new ConfigException(key, "\"" + redact(url) + "\" (expected: redis://HOST:PORT[/DB], DB 0-15)");
    }

    private static String redact(String url) {
        int at = url.indexOf('@');
        int scheme = url.indexOf("://");
        return at < 0 || scheme < 0 || at < scheme ? url : url.substring(0, scheme + 3) + "***" + url.substring(at);
    }

    /** {@return the URL without its password, for messages} */
    String label() {
        return "redis://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + database;
    }
}
