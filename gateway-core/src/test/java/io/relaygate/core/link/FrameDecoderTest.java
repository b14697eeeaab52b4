package io.relaygate.core.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The link frame decoder: any fragmentation, hostile lengths and types, random and truncated input. */
class FrameDecoderTest {

    private record Seen(int type, int stream, byte[] payload) {
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static byte[] stream() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(bytes(Frames.frame(Frames.OPEN, 1, new byte[] {1, 127, 0, 0, 1, 0, 80})));
        out.writeBytes(bytes(Frames.frame(Frames.DATA, 1, "hello".getBytes())));
        out.writeBytes(bytes(Frames.frame(Frames.FIN, 1, new byte[0])));
        out.writeBytes(bytes(Frames.frame(Frames.DATA, 1, new byte[Frames.MAX_PAYLOAD])));
        out.writeBytes(bytes(Frames.error(Frames.ERROR_PROTOCOL, "bye")));
        return out.toByteArray();
    }

    private static List<Seen> decodeInChunks(byte[] input, int[] cuts) throws LinkProtocolException {
        FrameDecoder decoder = new FrameDecoder();
        List<Seen> seen = new ArrayList<>();
        int from = 0;
        for (int cut : cuts) {
            decoder.decode(ByteBuffer.wrap(input, from, cut - from), (type, flags, stream, payload) ->
                    seen.add(new Seen(type, stream, bytes(payload))));
            from = cut;
        }
        decoder.decode(ByteBuffer.wrap(input, from, input.length - from), (type, flags, stream, payload) ->
                seen.add(new Seen(type, stream, bytes(payload))));
        return seen;
    }

    @Test
    void framesDecodeTheSameAtEverySplitPoint() throws Exception {
        byte[] input = stream();
        List<Seen> whole = decodeInChunks(input, new int[0]);
        assertThat(whole).extracting(Seen::type).containsExactly(Frames.OPEN, Frames.DATA, Frames.FIN, Frames.DATA,
                Frames.ERROR);
        assertThat(whole.get(1).payload()).isEqualTo("hello".getBytes());
        assertThat(whole.get(3).payload()).hasSize(Frames.MAX_PAYLOAD);
        for (int cut = 1; cut < 200; cut++) {
            List<Seen> split = decodeInChunks(input, new int[] {cut});
            assertThat(split).hasSameSizeAs(whole);
            for (int i = 0; i < whole.size(); i++) {
                assertThat(split.get(i).payload()).isEqualTo(whole.get(i).payload());
            }
        }
        int[] everyByte = new int[input.length - 1];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = i + 1;
        }
        assertThat(decodeInChunks(input, everyByte)).hasSameSizeAs(whole);
    }

    @Test
    void f3AHugeLengthIsRefusedFromTheHeaderAlone() {
        ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_BYTES).putInt(0x7FFFFFFF).put((byte) Frames.DATA)
                .put((byte) 0).putInt(1).flip();
        assertThatThrownBy(() -> new FrameDecoder().decode(header, (t, f, s, p) -> { }))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("frame length 2147483647");
        ByteBuffer justOver = ByteBuffer.allocate(Frames.HEADER_BYTES).putInt(Frames.MAX_PAYLOAD + 1)
                .put((byte) Frames.DATA).put((byte) 0).putInt(1).flip();
        assertThatThrownBy(() -> new FrameDecoder().decode(justOver, (t, f, s, p) -> { }))
                .isInstanceOf(LinkProtocolException.class);
    }

    @Test
    void anUnknownTypeClosesTheLink() {
        ByteBuffer frame = ByteBuffer.allocate(Frames.HEADER_BYTES).putInt(0).put((byte) 0x7F).put((byte) 0)
                .putInt(0).flip();
        assertThatThrownBy(() -> new FrameDecoder().decode(frame, (t, f, s, p) -> { }))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("unknown frame type 127");
    }

    @Test
    void randomAndTruncatedInputNeverThrowsAnythingElse() {
        SplittableRandom random = new SplittableRandom(7);
        byte[] valid = stream();
        for (int round = 0; round < 20_000; round++) {
            byte[] input;
            if (round % 2 == 0) {
                input = new byte[random.nextInt(64)];
                for (int i = 0; i < input.length; i++) {
                    input[i] = (byte) random.nextInt(256);
                }
            } else {
                input = java.util.Arrays.copyOf(valid, random.nextInt(valid.length));
                if (input.length > 0) {
                    input[random.nextInt(input.length)] ^= (byte) (1 + random.nextInt(255));
                }
            }
            FrameDecoder decoder = new FrameDecoder();
            try {
                decoder.decode(ByteBuffer.wrap(input), (t, f, s, p) -> assertThat(p.remaining())
                        .isLessThanOrEqualTo(Frames.MAX_PAYLOAD));
            } catch (LinkProtocolException expected) {
                // closing the link is the right answer to garbage
            }
        }
    }
}
