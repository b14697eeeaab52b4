package io.relaygate.httpconnect;

import io.relaygate.spi.ConfigException;
import io.relaygate.spi.PluginConfig;

/**
 * The HTTP proxy's settings: limits on a request head (RELIABILITY.md's defaults) and what forwarded requests carry.
 *
 * @param maxRequestLine  bytes of the request line, CRLF included; 414 above
 * @param maxHeaderBytes  bytes of the whole head, request line included; 431 above
 * @param maxHeaderFields header fields; 431 above
 * @param realm           the realm of the {@code Proxy-Authenticate} challenge
 * @param via             the pseudonym of the {@code Via} field added to forwarded messages; empty for none
 * @param xForwardedFor   whether forwarded requests tell the origin the client's address ({@code X-Forwarded-For})
 */
record HttpConnectConfig(int maxRequestLine, int maxHeaderBytes, int maxHeaderFields, String realm, String via,
                         boolean xForwardedFor) {

    static final HttpConnectConfig DEFAULTS = new HttpConnectConfig(8 * 1024, 16 * 1024, 100, "relaygate",
            "relaygate", false);

    HttpConnectConfig {
        if (maxRequestLine > maxHeaderBytes) {
            throw new IllegalArgumentException("maxRequestLine: " + maxRequestLine + " (expected: <= maxHeaderBytes "
                    + maxHeaderBytes + ")");
        }
        if (realm.isEmpty() || !realm.chars().allMatch(c -> c >= 0x20 && c < 0x7f && c != '"' && c != '\\')) {
            throw new IllegalArgumentException("realm: expected printable ASCII without quotes or backslashes");
        }
        if (!via.isEmpty() && !HeadParser.isToken(via)) {
            throw new IllegalArgumentException("via: expected a token (letters, digits, -._~ ...) or \"\" for none");
        }
    }

    static HttpConnectConfig from(PluginConfig c) {
        // The gateway buffers at most 64 KiB of handshake; the head must fit in it.
        int maxHeaderBytes = (int) c.getSize("maxHeaderBytes", DEFAULTS.maxHeaderBytes, 1024, 60 * 1024);
        int maxRequestLine = (int) c.getSize("maxRequestLine", DEFAULTS.maxRequestLine, 256, maxHeaderBytes);
        int maxHeaderFields = (int) c.getLong("maxHeaderFields", DEFAULTS.maxHeaderFields, 1, 1000);
        String realm = c.getString("realm", DEFAULTS.realm);
        String via = c.getString("via", DEFAULTS.via);
        boolean xForwardedFor = c.getBoolean("xForwardedFor", DEFAULTS.xForwardedFor);
        try {
            return new HttpConnectConfig(maxRequestLine, maxHeaderBytes, maxHeaderFields, realm, via, xForwardedFor);
        } catch (IllegalArgumentException e) {
            String key = e.getMessage().substring(0, e.getMessage().indexOf(':'));
            throw new ConfigException(c.path() + "." + key, e.getMessage().substring(key.length() + 2));
        }
    }
}
