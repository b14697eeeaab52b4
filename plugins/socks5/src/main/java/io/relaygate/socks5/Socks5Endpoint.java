package io.relaygate.socks5;

import io.relaygate.spi.HandshakeSession;
import io.relaygate.spi.ProtocolEndpoint;
import io.relaygate.spi.ProtocolHandler;
import java.nio.ByteBuffer;

/** Recognises SOCKS5 by its version byte. Stateless. */
final class Socks5Endpoint implements ProtocolEndpoint {

    @Override
    public Detection detect(ByteBuffer peek) {
        if (!peek.hasRemaining()) {
            return Detection.NEED_MORE;
        }
        return peek.get(peek.position()) == Socks5.VERSION ? Detection.MATCH : Detection.NO_MATCH;
    }

    @Override
    public ProtocolHandler newHandler(HandshakeSession session) {
        return new Socks5Handler(session);
    }
}
