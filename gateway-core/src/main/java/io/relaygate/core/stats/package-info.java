/** The gateway's counters, written by the event loops and read by the console and the tests; no dependencies. */
package io.relaygate.core.stats;
