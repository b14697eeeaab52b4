package io.relaygate.socks5;

import io.relaygate.spi.TunnelOutcome;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/** SOCKS5 constants and encoders. */
final class Socks5 {

    static final byte VERSION = 0x05;
    static final byte AUTH_VERSION = 0x01;

    static final byte METHOD_NO_AUTH = 0x00;
    static final byte METHOD_USER_PASSWORD = 0x02;
    static final byte METHOD_NONE_ACCEPTABLE = (byte) 0xFF;

    static final byte CMD_CONNECT = 0x01;
    static final byte CMD_UDP_ASSOCIATE = 0x03;

    static final byte ATYP_IPV4 = 0x01;
    static final byte ATYP_DOMAIN = 0x03;
    static final byte ATYP_IPV6 = 0x04;

    static final byte REP_SUCCEEDED = 0x00;
    static final byte REP_GENERAL_FAILURE = 0x01;
    static final byte REP_NOT_ALLOWED = 0x02;
    static final byte REP_NETWORK_UNREACHABLE = 0x03;
    static final byte REP_HOST_UNREACHABLE = 0x04;
    static final byte REP_CONNECTION_REFUSED = 0x05;
    static final byte REP_COMMAND_NOT_SUPPORTED = 0x07;
    static final byte REP_ADDRESS_TYPE_NOT_SUPPORTED = 0x08;

    private Socks5() {
    }

    static ByteBuffer methodSelection(byte method) {
        return ByteBuffer.wrap(new byte[] {VERSION, method});
    }

    static ByteBuffer authStatus(boolean success) {
        return ByteBuffer.wrap(new byte[] {AUTH_VERSION, success ? (byte) 0x00 : (byte) 0x01});
    }

    /** The reply code of DESIGN.md's table for each outcome. */
    static byte replyCode(TunnelOutcome outcome) {
        return switch (outcome) {
            case OK -> REP_SUCCEEDED;
            case LINK_AUTH_FAILED, NOT_ALLOWED, CONNECTION_CAP_REACHED, QUOTA_REACHED -> REP_NOT_ALLOWED;
            case HOST_UNREACHABLE, TIMED_OUT -> REP_HOST_UNREACHABLE;
            case NETWORK_UNREACHABLE -> REP_NETWORK_UNREACHABLE;
            case CONNECTION_REFUSED -> REP_CONNECTION_REFUSED;
            case COMMAND_NOT_SUPPORTED -> REP_COMMAND_NOT_SUPPORTED;
            case ADDRESS_TYPE_NOT_SUPPORTED -> REP_ADDRESS_TYPE_NOT_SUPPORTED;
            case CLIENT_AUTH_FAILED, GENERAL_FAILURE -> REP_GENERAL_FAILURE;
        };
    }

    /** A reply with the bound address, or 0.0.0.0:0 when there is none (failures). */
    static ByteBuffer reply(byte code, InetSocketAddress bound) {
        InetAddress address = bound == null ? null : bound.getAddress();
        byte[] addressBytes = address == null ? new byte[4] : address.getAddress();
        ByteBuffer reply = ByteBuffer.allocate(6 + addressBytes.length);
        reply.put(VERSION).put(code).put((byte) 0)
                .put(address == null || address instanceof Inet4Address ? ATYP_IPV4 : ATYP_IPV6)
                .put(addressBytes)
                .putShort((short) (bound == null ? 0 : bound.getPort()));
        return reply.flip();
    }
}
