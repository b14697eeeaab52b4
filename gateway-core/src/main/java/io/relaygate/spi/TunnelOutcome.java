package io.relaygate.spi;

/**
 * How a tunnel's setup ended. Each protocol maps every outcome to one reply (the table in DESIGN.md), so the same
 * failure looks the same whichever protocol the client speaks.
 */
public enum TunnelOutcome {
    /** Connected; relaying starts. */
    OK,
    /** The client's credentials were refused by this gateway. */
    CLIENT_AUTH_FAILED,
    /** This gateway's own credentials were refused by the remote gateway. */
    LINK_AUTH_FAILED,
    /** The destination is not allowed (policy, port, the gateway's own listener). */
    NOT_ALLOWED,
    /** The name did not resolve or the host is unreachable. */
    HOST_UNREACHABLE,
    /** Name resolution or the connection timed out. */
    TIMED_OUT,
    /** The network is unreachable. */
    NETWORK_UNREACHABLE,
    /** The destination refused the connection. */
    CONNECTION_REFUSED,
    /** The client asked for a command this gateway does not serve. */
    COMMAND_NOT_SUPPORTED,
    /** The user holds as many tunnels as their account allows ({@code --max-connections}). */
    CONNECTION_CAP_REACHED,
    /** The user has used their traffic quota for the period ({@code --quota}). */
    QUOTA_REACHED,
    /** The client used an address type this gateway does not serve. */
    ADDRESS_TYPE_NOT_SUPPORTED,
    /** The remote gateway is unreachable, or any other failure. */
    GENERAL_FAILURE
}
