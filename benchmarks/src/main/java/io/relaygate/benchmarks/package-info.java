/**
 * JMH benchmarks of the gateway over loopback: relay throughput against the same traffic without the gateway,
 * handshake rates, and the footprint of idle tunnels.
 */
package io.relaygate.benchmarks;
