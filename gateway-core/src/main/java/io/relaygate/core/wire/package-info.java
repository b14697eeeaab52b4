/**
 * The link's wire format (docs/link-protocol.md): the preamble, frames read in place, the messages, and the
 * SCRAM-SHA-256 exchange. No channels: everything here works on byte buffers.
 */
package io.relaygate.core.wire;
