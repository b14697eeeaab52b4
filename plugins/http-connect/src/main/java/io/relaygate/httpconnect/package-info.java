/**
 * HTTP CONNECT (RFC 9110 §9.3.6) with strict request parsing (RFC 9112) and Proxy-Authorization Basic.
 */
package io.relaygate.httpconnect;
