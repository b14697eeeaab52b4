package io.relaygate.httpconnect;

import io.relaygate.spi.PluginConfig;

/**
 * Limits on a CONNECT request head (RELIABILITY.md's defaults).
 *
 * @param maxRequestLine  bytes of the request line, CRLF included; 414 above
 * @param maxHeaderBytes  bytes of the whole head, request line included; 431 above
 * @param maxHeaderFields header fields; 431 above
 * @param realm           the realm of the {@code Proxy-Authenticate} challenge
 */
record HttpConnectConfig(int maxRequestLine, int maxHeaderBytes, int maxHeaderFields, String realm) {

    static final HttpConnectConfig DEFAULTS = new HttpConnectConfig(8 * 1024, 16 * 1024, 100, "relaygate");

    HttpConnectConfig {
        if (maxRequestLine > maxHeaderBytes) {
            throw new IllegalArgumentException("maxRequestLine: " + maxRequestLine + " (expected: <= maxHeaderBytes "
                    + maxHeaderBytes + ")");
        }
        if (realm.isEmpty() || !realm.chars().allMatch(c -> c >= 0x20 && c < 0x7f && c != '"' && c != '\\')) {
            throw new IllegalArgumentException("realm: expected printable ASCII without quotes or backslashes");
        }
    }

    static HttpConnectConfig from(PluginConfig c) {
        // The gateway buffers at most 64 KiB of handshake; the head must fit in it.
        int maxHeaderBytes = (int) c.getSize("maxHeaderBytes", DEFAULTS.maxHeaderBytes, 1024, 60 * 1024);
        int maxRequestLine = (int) c.getSize("maxRequestLine", DEFAULTS.maxRequestLine, 256, maxHeaderBytes);
        int maxHeaderFields = (int) c.getLong("maxHeaderFields", DEFAULTS.maxHeaderFields, 1, 1000);
        String realm = c.getString("realm", DEFAULTS.realm);
        try {
            return new HttpConnectConfig(maxRequestLine, maxHeaderBytes, maxHeaderFields, realm);
        } catch (IllegalArgumentException e) {
            throw new io.relaygate.spi.ConfigException(c.path() + ".realm", e.getMessage());
        }
    }
}
