/** The relay of a tunnel between two ports, its record and its access log line. */
package io.relaygate.core.relay;
