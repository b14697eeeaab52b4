/**
 * The {@code gateway} command line: a contract that tests and scripts rely on (flags, exit codes and the
 * {@code listening <name> <host>:<port>} lines on standard output).
 */
package io.relaygate.core.cli;
