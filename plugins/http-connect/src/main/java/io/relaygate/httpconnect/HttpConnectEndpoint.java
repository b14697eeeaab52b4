package io.relaygate.httpconnect;

import io.relaygate.spi.HandshakeSession;
import io.relaygate.spi.ProtocolEndpoint;
import io.relaygate.spi.ProtocolHandler;
import java.nio.ByteBuffer;

/** Recognises an HTTP request by its first byte, a letter of a method name. Immutable. */
final class HttpConnectEndpoint implements ProtocolEndpoint {

    private final HttpConnectConfig config;

    HttpConnectEndpoint(HttpConnectConfig config) {
        this.config = config;
    }

    @Override
    public Detection detect(ByteBuffer peek) {
        if (!peek.hasRemaining()) {
            return Detection.NEED_MORE;
        }
        byte first = peek.get(peek.position());
        return (first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z') ? Detection.MATCH
                : Detection.NO_MATCH;
    }

    @Override
    public ProtocolHandler newHandler(HandshakeSession session) {
        return new HttpConnectHandler(session, config);
    }
}
