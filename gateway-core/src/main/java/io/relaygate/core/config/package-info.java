/**
 * Configuration: YAML, command-line flags and embedded defaults merged into immutable, validated values whose errors
 * name the file, the line, the key and the expectation.
 */
package io.relaygate.core.config;
