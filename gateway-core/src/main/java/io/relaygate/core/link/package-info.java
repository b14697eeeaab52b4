/**
 * The link between a local and a remote gateway (docs/link-protocol.md): the preamble, the frame codec and the
 * SCRAM-SHA-256 authentication exchange.
 */
package io.relaygate.core.link;
