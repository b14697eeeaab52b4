/**
 * What the console controls: its view of the gateway ({@link io.relaygate.core.admin.GatewayAdmin}), the local's
 * client listener and the local's link settings, changed while the gateway runs.
 */
package io.relaygate.core.admin;
