package io.relaygate.core.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.core.wire.ProxyHeader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PROXY protocol headers as a load balancer sends them, read the way the preface reads them: asking how much more
 * belongs to the header and reading no further, whatever sizes the bytes arrive in.
 */
class ProxyPreambleTest {

    private static final byte[] CLIENT_BYTES = {5, 1, 0};

    /**
     * Feeds {@code header} followed by the client's first bytes in pieces of at most {@code chunk}, taking only what
     * {@link ProxyPreamble#needed} allows. {@return the decoded header} and checks nothing of the client's was taken.
     */
    private static ProxyPreamble.Header readInPieces(byte[] header, int chunk) {
        byte[] wire = new byte[header.length + CLIENT_BYTES.length];
        System.arraycopy(header, 0, wire, 0, header.length);
        System.arraycopy(CLIENT_BYTES, 0, wire, header.length, CLIENT_BYTES.length);
        ByteBuffer read = ByteBuffer.allocate(4096);
        int offset = 0;
        while (true) {
            int needed = ProxyPreamble.needed(read.duplicate().flip());
            if (needed == 0) {
                break;
            }
            int take = Math.min(needed, Math.min(chunk, wire.length - offset));
            assertThat(take).as("the header ends before the wire does").isPositive();
            read.put(wire, offset, take);
            offset += take;
        }
        assertThat(offset).as("not one byte of the client's").isEqualTo(header.length);
        return ProxyPreamble.decode(read.flip());
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void versionOneLinesAreReadAtEverySplitPoint() {
        byte[] tcp4 = ascii("PROXY TCP4 203.0.113.7 192.0.2.1 56324 7080\r\n");
        byte[] tcp6 = ascii("PROXY TCP6 2001:db8::7 2001:db8::1 56324 7080\r\n");
        for (int chunk = 1; chunk <= tcp6.length + 3; chunk++) {
            ProxyPreamble.Header four = readInPieces(tcp4, chunk);
            assertThat(four.source()).isEqualTo(new InetSocketAddress("203.0.113.7", 56324));
            assertThat(four.destination()).isEqualTo(new InetSocketAddress("192.0.2.1", 7080));
            ProxyPreamble.Header six = readInPieces(tcp6, chunk);
            assertThat(six.source()).isEqualTo(new InetSocketAddress("2001:db8::7", 56324));
        }
        assertThat(readInPieces(ascii("PROXY UNKNOWN\r\n"), 1).source()).as("the proxy's own").isNull();
        assertThat(readInPieces(ascii("PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n"), 5).source()).isNull();
    }

    @Test
    void versionTwoHeadersAreReadAtEverySplitPointWithTheirTlvsSkipped() {
        InetSocketAddress client = new InetSocketAddress("203.0.113.7", 56324);
        InetSocketAddress server = new InetSocketAddress("192.0.2.1", 7080);
        byte[] v4 = ProxyHeader.v2(client, server);
        byte[] v6 = ProxyHeader.v2(new InetSocketAddress("2001:db8::7", 1), new InetSocketAddress("2001:db8::1", 2));
        byte[] withTlv = Arrays.copyOf(v4, v4.length + 7);
        withTlv[15] = (byte) (12 + 7);          // the length grows by a TLV: type 0x04 (NOOP), length 4, 4 bytes
        withTlv[v4.length] = 0x04;
        withTlv[v4.length + 2] = 4;
        for (int chunk = 1; chunk <= withTlv.length + 3; chunk++) {
            assertThat(readInPieces(v4, chunk).source()).isEqualTo(client);
            assertThat(readInPieces(v4, chunk).destination()).isEqualTo(server);
            assertThat(readInPieces(v6, chunk).source()).isEqualTo(new InetSocketAddress("2001:db8::7", 1));
            assertThat(readInPieces(withTlv, chunk).source()).isEqualTo(client);
        }
        byte[] local = Arrays.copyOf(v4, 16);
        local[12] = 0x20;                       // version 2, LOCAL: a health check
        local[13] = 0;
        local[15] = 0;
        assertThat(readInPieces(local, 3).source()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET / HTTP/1.1\r\n",                                   // no header at all
        "PROXY TCP4 203.0.113.7 192.0.2.1 56324\r\n",           // a field missing
        "PROXY TCP4 203.0.113.7 192.0.2.1 56324 7080 9\r\n",    // one too many
        "PROXY TCP4 example.com 192.0.2.1 1 2\r\n",             // a name, not a literal: nothing is looked up
        "PROXY TCP4 2001:db8::7 192.0.2.1 1 2\r\n",             // the wrong family
        "PROXY TCP6 203.0.113.7 2001:db8::1 1 2\r\n",
        "PROXY TCP4 203.0.113.7 192.0.2.1 65536 2\r\n",         // a port out of range
        "PROXY TCP4 203.0.113.7 192.0.2.1 -1 2\r\n",
        "PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n",
        "PROXY TCP4 203.0.113.7 192.0.2.1 1 2\n",               // LF alone never ends it: too long then
        "PROXY TCP4 256.0.113.7 192.0.2.1 1 2\r\n",
    })
    void malformedVersionOneLinesAreRefused(String line) {
        byte[] bytes = ascii(line + "x".repeat(120));
        assertThatThrownBy(() -> {
            ByteBuffer read = ByteBuffer.allocate(4096);
            int offset = 0;
            while (ProxyPreamble.needed(read.duplicate().flip()) > 0) {
                read.put(bytes[offset++]);
            }
            ProxyPreamble.decode(read.flip());
        }).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void malformedVersionTwoHeadersAreRefused() {
        byte[] good = ProxyHeader.v2(new InetSocketAddress("203.0.113.7", 1), new InetSocketAddress("192.0.2.1", 2));
        byte[] version3 = good.clone();
        version3[12] = 0x31;
        byte[] command2 = good.clone();
        command2[12] = 0x22;
        byte[] udp = good.clone();
        udp[13] = 0x12;
        byte[] tooShort = good.clone();
        tooShort[15] = 4;                       // says 4 bytes: too few for two IPv4 addresses and ports
        for (byte[] bad : new byte[][] {version3, command2, udp, Arrays.copyOf(tooShort, 20)}) {
            assertThatThrownBy(() -> ProxyPreamble.decode(ByteBuffer.wrap(bad))).isInstanceOf(
                    IllegalArgumentException.class);
        }
        byte[] huge = good.clone();
        huge[14] = (byte) 0xFF;                 // 65,280 bytes announced: refused before any is read
        assertThatThrownBy(() -> ProxyPreamble.needed(ByteBuffer.wrap(huge, 0, 16)))
                .hasMessageContaining("at most 2048");
        byte[] signature = good.clone();
        signature[11] = 0x0B;
        assertThatThrownBy(() -> ProxyPreamble.needed(ByteBuffer.wrap(signature, 0, 16)))
                .hasMessage("no PROXY protocol header");
    }
}
