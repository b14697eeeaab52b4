/**
 * Plugin discovery: {@link java.util.ServiceLoader} over the class path and over the plugins directory, where each
 * plugin directory or bare jar gets a class loader of its own that shares only the SPI, SLF4J and the JDK.
 */
package io.relaygate.core.plugin;
