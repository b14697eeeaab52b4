package io.relaygate.testkit;

import io.relaygate.spi.Destination;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.HandshakeSession;
import io.relaygate.spi.PluginConfig;
import io.relaygate.spi.ProtocolEndpoint;
import io.relaygate.spi.ProtocolFactory;
import io.relaygate.spi.ProtocolHandler;
import io.relaygate.spi.TunnelOutcome;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The smallest protocol plugin, so that the core's own behaviour (the handshake lifecycle, the relay) is tested in
 * the core without SOCKS5 or HTTP: a client sends {@code !HOST:PORT\n} and gets {@code OK\n}, or
 * {@code NO <outcome>\n} and a close. Bytes after the line are early data. A line that does not parse is rejected.
 */
public final class LineProtocol implements GatewayPlugin, ProtocolFactory, ProtocolEndpoint {

    /** {@return the request line for {@code host:port}} */
    public static byte[] request(String host, int port) {
        return ("!" + host + ":" + port + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String name() {
        return "line";
    }

    @Override
    public List<ProtocolFactory> protocols() {
        return List.of(this);
    }

    @Override
    public ProtocolEndpoint create(PluginConfig config, GatewayContext context) {
        return this;
    }

    @Override
    public Detection detect(ByteBuffer peek) {
        if (!peek.hasRemaining()) {
            return Detection.NEED_MORE;
        }
        return peek.get(peek.position()) == '!' ? Detection.MATCH : Detection.NO_MATCH;
    }

    @Override
    public ProtocolHandler newHandler(HandshakeSession session) {
        return new ProtocolHandler() {
            @Override
            public void onBytes(ByteBuffer in) {
                for (int i = in.position(); i < in.limit(); i++) {
                    if (in.get(i) == '\n') {
                        byte[] line = new byte[i - in.position() - 1];
                        in.get(in.position() + 1, line);
                        in.position(i + 1);
                        String text = new String(line, StandardCharsets.US_ASCII);
                        int colon = text.lastIndexOf(':');
                        try {
                            session.openTunnel(Destination.parse(text.substring(0, colon),
                                    Integer.parseInt(text.substring(colon + 1))));
                        } catch (RuntimeException e) {
                            session.reject("bad line", ByteBuffer.wrap("NO BAD_LINE\n".getBytes(
                                    StandardCharsets.US_ASCII)));
                        }
                        return;
                    }
                }
            }

            @Override
            public ByteBuffer tunnelReply(TunnelOutcome outcome, InetSocketAddress bound) {
                String reply = outcome == TunnelOutcome.OK ? "OK\n" : "NO " + outcome + "\n";
                return ByteBuffer.wrap(reply.getBytes(StandardCharsets.US_ASCII));
            }
        };
    }
}
