/**
 * Decisions about connections that need no connection: which destination may be dialled, the caps on connections
 * and handshakes, login damping, and how much of what clients send may reach the log.
 */
package io.relaygate.core.policy;
