package io.relaygate.core.config;

/**
 * One configured value and where it came from.
 *
 * @param value  the scalar text
 * @param origin where it was set, e.g. {@code conf/gateway.yaml:12} or {@code --listen}
 */
record Setting(String value, String origin) {
}
