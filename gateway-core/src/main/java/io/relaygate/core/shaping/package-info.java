/**
 * Bandwidth shaping: per-principal meters over the rate limiter SPI, and the throttle each relay direction asks
 * before it reads (a grant, or a park on a loop timer until tokens come).
 */
package io.relaygate.core.shaping;
