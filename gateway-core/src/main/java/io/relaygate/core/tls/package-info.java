/**
 * The link's TLS identity: the remote's certificate (generated at first start or read from PEM files) and its
 * fingerprint. BouncyCastle writes and reads the PEM; the JDK does the TLS.
 */
package io.relaygate.core.tls;
