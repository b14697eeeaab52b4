/**
 * SOCKS5 (RFC 1928) CONNECT, with username/password authentication (RFC 1929) when the gateway requires it.
 */
package io.relaygate.socks5;
