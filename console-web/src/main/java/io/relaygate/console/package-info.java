/**
 * The web console: a Javalin server inside the gateway, with the REST user API, live stats over a WebSocket, the
 * console page and Prometheus metrics, all behind the admin token. Uses only {@code io.relaygate.spi}.
 */
package io.relaygate.console;
