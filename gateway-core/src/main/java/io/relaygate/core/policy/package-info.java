/**
 * Which destinations a gateway may dial: pure functions of addresses and ports, with no channel, no loop and no
 * account; the remote's default refusals and the operator's allow-list.
 */
package io.relaygate.core.policy;
