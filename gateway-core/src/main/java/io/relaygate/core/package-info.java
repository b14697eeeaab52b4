/**
 * The gateway: assembles configuration, plugins, event loops and listeners, and runs them from start to drain.
 */
package io.relaygate.core;
