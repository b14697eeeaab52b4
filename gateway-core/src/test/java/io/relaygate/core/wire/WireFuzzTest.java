package io.relaygate.core.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.relaygate.spi.Destination;
import java.nio.ByteBuffer;

/**
 * Fuzz targets for what a link peer or a client can make the core parse: the frame decoder with every control
 * message, the datagram records, and the destination normaliser. Each must refuse with its own checked exception
 * (or {@link IllegalArgumentException} for a destination) and never throw anything else, read past its input or loop.
 * {@code mvn verify} replays the committed inputs ({@code src/test/resources/.../WireFuzzTestInputs/<method>/});
 * {@code JAZZER_FUZZ=1} fuzzes (docs/testing.md).
 */
class WireFuzzTest {

    @FuzzTest(maxExecutions = 1_000_000)
    void frames(byte[] input) {
        ByteBuffer in = ByteBuffer.wrap(input);
        FrameReader reader = new FrameReader();
        try {
            while (reader.header(in)) {
                int before = in.position();
                ByteBuffer payload = reader.frame(in);
                if (payload == null) {
                    break;
                }
                assertThat(in.position()).isEqualTo(before + Frames.HEADER_BYTES + payload.remaining());
                decodeAsControl(reader.type(), payload);
            }
        } catch (LinkProtocolException expected) {
            assertThat(expected.getMessage()).isNotNull();
        }
    }

    private static void decodeAsControl(int type, ByteBuffer payload) throws LinkProtocolException {
        switch (type) {
            case Frames.OPEN -> {
                LinkMessages.Open open = LinkMessages.open(payload.duplicate());
                assertThat(open.window()).isPositive();
            }
            case Frames.OPEN_RESULT -> LinkMessages.openResult(payload.duplicate());
            case Frames.REGISTER -> {
                LinkMessages.Register register = LinkMessages.register(payload.duplicate());
                assertThat(LinkMessages.isServiceName(register.name())).isTrue();
            }
            case Frames.REGISTER_RESULT -> LinkMessages.registerResult(payload.duplicate());
            default -> {
                // the other types carry no structure the session decodes beyond fixed fields
            }
        }
    }

    @FuzzTest(maxExecutions = 1_000_000)
    void datagramRecords(byte[] input) {
        ByteBuffer in = ByteBuffer.wrap(input);
        try {
            for (DatagramRecords.Datagram d; (d = DatagramRecords.decode(in)) != null; ) {
                assertThat(d.payload().remaining()).isLessThanOrEqualTo(DatagramRecords.MAX_PAYLOAD);
                ByteBuffer again = ByteBuffer.allocate(DatagramRecords.MAX_HEADER + d.payload().remaining());
                assertThat(DatagramRecords.encode(again, d.address(), d.payload().duplicate())).isTrue();
                again.flip();
                DatagramRecords.Datagram same = DatagramRecords.decode(again);
                assertThat(same.address()).isEqualTo(d.address());
                assertThat(same.payload()).isEqualTo(d.payload());
            }
        } catch (LinkProtocolException expected) {
            assertThat(expected.getMessage()).isNotNull();
        }
    }

    @FuzzTest(maxExecutions = 1_000_000)
    void destinations(FuzzedDataProvider data) {
        int port = data.consumeInt(-1, 70_000);
        String host = data.consumeRemainingAsString();
        Destination parsed;
        try {
            parsed = Destination.parse(host, port);
        } catch (IllegalArgumentException expected) {
            return;
        }
        assertThat(parsed.port()).isBetween(1, 65_535);
        if (parsed.isName()) {
            assertThat(parsed.host().length()).isLessThanOrEqualTo(Destination.MAX_NAME_LENGTH + 1);
            assertThat(parsed.host().chars().allMatch(c -> c > 0x20 && c < 0x7f)).as("printable ASCII only").isTrue();
        }
        // normalising is idempotent: what it produced parses to the same destination
        Destination again = Destination.parse(parsed.isName() ? parsed.host()
                : parsed.address().getHostAddress(), parsed.port());
        assertThat(again.isName()).isEqualTo(parsed.isName());
        assertThat(again.address()).isEqualTo(parsed.address());
        assertThat(again.port()).isEqualTo(parsed.port());
    }
}
