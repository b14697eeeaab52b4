/**
 * The test kit for gateway and plugin tests (shipped as gateway-core's test-jar): loopback origins, SOCKS5 and
 * CONNECT clients, an in-memory account store, in-process gateways, and waiting on conditions with deadlines.
 */
package io.relaygate.testkit;
