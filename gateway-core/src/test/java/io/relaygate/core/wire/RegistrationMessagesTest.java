package io.relaygate.core.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.spi.Destination;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** REGISTER, REGISTER_RESULT, a visitor's OPEN and the PROXY v2 header: round trips and every malformed shape. */
class RegistrationMessagesTest {

    private static LinkMessages.Block block(String address, int prefix) throws Exception {
        return new LinkMessages.Block(InetAddress.getByName(address), prefix);
    }

    @Test
    void aRegistrationRoundTrips() throws Exception {
        LinkMessages.Register register = new LinkMessages.Register("web-1.a_b", 60022, 64,
                List.of(block("198.51.100.0", 24), block("2001:db8::", 32)));
        assertThat(LinkMessages.register(ByteBuffer.wrap(LinkMessages.register(register)))).isEqualTo(register);
        LinkMessages.RegisterResult granted = new LinkMessages.RegisterResult("web", 
                LinkMessages.RegisterOutcome.GRANTED, 60001);
        assertThat(LinkMessages.registerResult(ByteBuffer.wrap(LinkMessages.registerResult(granted))))
                .isEqualTo(granted);
        for (LinkMessages.RegisterOutcome outcome : LinkMessages.RegisterOutcome.values()) {
            LinkMessages.RegisterResult result = new LinkMessages.RegisterResult("s", outcome,
                    outcome == LinkMessages.RegisterOutcome.GRANTED ? 1 : 0);
            assertThat(LinkMessages.registerResult(ByteBuffer.wrap(LinkMessages.registerResult(result))).outcome())
                    .isEqualTo(outcome);
        }
    }

    @Test
    void aVisitorsOpenCarriesTheServiceAndAnOrdinaryOpenNone() throws Exception {
        Destination visitor = Destination.of(InetAddress.getByName("203.0.113.9"), 51000);
        LinkMessages.Open open = LinkMessages.open(ByteBuffer.wrap(LinkMessages.open(4096, visitor, "ssh")));
        assertThat(open.service()).isEqualTo("ssh");
        assertThat(open.destination()).isEqualTo(visitor);
        assertThat(LinkMessages.open(ByteBuffer.wrap(LinkMessages.open(4096, visitor))).service()).isNull();
    }

    @Test
    void malformedRegistrationsAreProtocolErrors() throws Exception {
        List<byte[]> bad = new ArrayList<>();
        bad.add(new byte[0]);
        bad.add(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0});                             // an empty name
        bad.add(name("web/../x", 0, 0, 0));                                        // a name outside the rule
        bad.add(name("a".repeat(65), 0, 0, 0));                                    // too long
        bad.add(name("web", 80, -1, 0));                                           // a negative cap
        bad.add(name("web", 80, 0, LinkMessages.MAX_ALLOW_FROM + 1));              // too many blocks
        bad.add(name("web", 80, 0, 1));                                            // a block announced, none sent
        byte[] prefix = ByteBuffer.allocate(64).put(name("web", 80, 0, 1)).put((byte) 1).put(new byte[4])
                .put((byte) 33).array();
        bad.add(java.util.Arrays.copyOf(prefix, name("web", 80, 0, 1).length + 6));  // /33 of an IPv4 address
        byte[] trailing = java.util.Arrays.copyOf(name("web", 80, 0, 0), name("web", 80, 0, 0).length + 1);
        bad.add(trailing);
        for (byte[] payload : bad) {
            assertThatThrownBy(() -> LinkMessages.register(ByteBuffer.wrap(payload)))
                    .isInstanceOf(LinkProtocolException.class);
        }
        assertThatThrownBy(() -> LinkMessages.registerResult(ByteBuffer.wrap(new byte[] {3, 'w', 'e', 'b', 0, 0,
            0}))).as("granted without a port").isInstanceOf(LinkProtocolException.class);
        assertThatThrownBy(() -> LinkMessages.registerResult(ByteBuffer.wrap(new byte[] {3, 'w', 'e', 'b', 99, 0,
            0}))).as("an unknown outcome").isInstanceOf(LinkProtocolException.class);
        Destination visitor = Destination.of(InetAddress.getByName("203.0.113.9"), 51000);
        byte[] open = LinkMessages.open(4096, visitor, "ok");
        open[open.length - 1] = '/';
        assertThatThrownBy(() -> LinkMessages.open(ByteBuffer.wrap(open))).isInstanceOf(LinkProtocolException.class);
    }

    private static byte[] name(String name, int port, int cap, int blocks) {
        byte[] bytes = name.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        return ByteBuffer.allocate(1 + bytes.length + 8).put((byte) bytes.length).put(bytes).putShort((short) port)
                .putInt(cap).putShort((short) blocks).array();
    }

    @Test
    void theProxyHeaderIsVersionTwoInEitherFamily() throws Exception {
        InetSocketAddress from = new InetSocketAddress(InetAddress.getByName("203.0.113.9"), 51000);
        InetSocketAddress to = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 8080);
        byte[] v4 = ProxyHeader.v2(from, to);
        assertThat(v4).hasSize(28);
        assertThat(v4[12]).isEqualTo((byte) 0x21);
        assertThat(v4[13]).isEqualTo((byte) 0x11);
        assertThat(ProxyHeader.parse(ByteBuffer.wrap(v4))).containsExactly(from, to);
        InetSocketAddress six = new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 443);
        byte[] mixed = ProxyHeader.v2(six, to);
        assertThat(mixed).hasSize(52);
        assertThat(mixed[13]).isEqualTo((byte) 0x21);
        InetSocketAddress[] parsed = ProxyHeader.parse(ByteBuffer.wrap(mixed));
        assertThat(parsed[0]).isEqualTo(six);
        assertThat(parsed[1].getAddress().getHostAddress()).isEqualTo("127.0.0.1");   // ::ffff:127.0.0.1
        assertThatThrownBy(() -> ProxyHeader.parse(ByteBuffer.wrap(new byte[28])))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
