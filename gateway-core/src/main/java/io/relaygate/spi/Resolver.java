package io.relaygate.spi;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Resolves host names. May block: the gateway calls it only on its blocking executor, bounded by the DNS timeout.
 * Must be thread-safe.
 */
@FunctionalInterface
public interface Resolver {

    /** The JDK's resolver ({@link InetAddress#getAllByName}), the default. */
    Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));

    /**
     * Resolves a host name.
     *
     * @param host a syntactically valid host name (see {@link Destination#parse})
     * @return the addresses in the order to try them, never empty
     * @throws UnknownHostException if the name does not resolve
     */
    List<InetAddress> resolve(String host) throws UnknownHostException;
}
