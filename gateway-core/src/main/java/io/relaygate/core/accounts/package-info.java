/**
 * The remote's users while it runs: each user's live tunnels and idle links (to close them when the user is
 * revoked, to cap idle links, to show them), and the traffic not yet persisted.
 */
package io.relaygate.core.accounts;
