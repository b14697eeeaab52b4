package io.relaygate.httpconnect;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.relaygate.spi.AuthResult;
import io.relaygate.testkit.RecordingSession;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Fuzz targets for what an HTTP proxy client sends: the request head (CONNECT or a forwarded request, fed whole and
 * in two pieces, which must decide the same), an absolute-form target, and the chunked decoder in both its modes.
 * {@code mvn verify} replays the committed inputs; {@code JAZZER_FUZZ=1} fuzzes (docs/testing.md).
 */
class HttpFuzzTest {

    private static final HttpConnectConfig LIMITS = new HttpConnectConfig(1024, 4096, 32, "relaygate", "relaygate",
            false);

    private record Outcome(String reject, byte[] reply, String destination, boolean forwarded, String user,
                           byte[] unconsumed) {
        boolean same(Outcome o) {
            return Objects.equals(reject, o.reject) && Arrays.equals(reply, o.reply)
                    && Objects.equals(destination, o.destination) && forwarded == o.forwarded
                    && Objects.equals(user, o.user) && Arrays.equals(unconsumed, o.unconsumed);
        }
    }

    private static Outcome run(boolean auth, byte[][] chunks) {
        RecordingSession session = new RecordingSession(auth);
        session.handler(new HttpConnectHandler(session, LIMITS));
        for (byte[] chunk : chunks) {
            session.feed(chunk);
            while (session.isWaitingForAuth()) {
                session.completeAuth(AuthResult.OK);
            }
        }
        return new Outcome(session.rejectReason, session.rejectReply, session.destination == null ? null
                : session.destination.toString(), session.forwarder != null, session.user, session.unconsumed());
    }

    @FuzzTest(maxExecutions = 1_000_000)
    void requestHead(FuzzedDataProvider data) {
        boolean auth = data.consumeBoolean();
        int split = data.consumeInt(0, 5000);
        byte[] bytes = data.consumeRemainingAsBytes();
        split = Math.min(split, bytes.length);
        Outcome whole = run(auth, new byte[][] {bytes});
        Outcome pieces = run(auth, new byte[][] {Arrays.copyOf(bytes, split),
                Arrays.copyOfRange(bytes, split, bytes.length)});
        assertThat(pieces.same(whole)).as("the same decision at split %d", split).isTrue();
        if (whole.reply() != null) {
            String reply = new String(whole.reply(), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(reply).startsWith("HTTP/1.1 ").contains("\r\nConnection: close\r\n");
            assertThat(reply.substring(reply.indexOf("\r\n\r\n") + 4)).doesNotContain("\r");
        }
    }

    @FuzzTest(maxExecutions = 1_000_000)
    void forwardTarget(FuzzedDataProvider data) {
        String method = data.pickValue(new String[] {"GET", "OPTIONS", "POST"});
        String target = data.consumeRemainingAsAsciiString();
        ForwardTarget parsed;
        try {
            parsed = ForwardTarget.parse(method, target);
        } catch (HttpException refused) {
            assertThat(refused.status()).isEqualTo(400);
            return;
        }
        assertThat(parsed.destination().port()).isBetween(1, 65_535);
        assertThat(parsed.originForm()).matches(s -> s.equals("*") || s.startsWith("/"), "origin-form");
        assertThat(parsed.originForm()).doesNotContain("#");
        assertThat(parsed.authority()).doesNotContain("@", "/", "?");
    }

    /**
     * The chunked decoder fed in pieces of fuzzed sizes: it never claims bytes beyond what it was given, makes
     * progress or asks for more, and in both modes agrees on where the body ends; stripped, what is kept is exactly
     * the chunks' data.
     */
    @FuzzTest(maxExecutions = 1_000_000)
    void chunked(FuzzedDataProvider data) {
        int piece = data.consumeInt(1, 64);
        byte[] body = data.consumeRemainingAsBytes();
        Decoded verbatim = decode(body, piece, false);
        Decoded stripped = decode(body, piece, true);
        assertThat(stripped.error).isEqualTo(verbatim.error);
        assertThat(stripped.consumed).isEqualTo(verbatim.consumed);
        assertThat(stripped.done).isEqualTo(verbatim.done);
        if (verbatim.done) {
            assertThat(verbatim.kept).isEqualTo(Arrays.copyOf(body, verbatim.consumed));
        }
        assertThat(stripped.kept.length).isLessThanOrEqualTo(verbatim.kept.length);
    }

    private record Decoded(int consumed, boolean done, String error, byte[] kept) {
    }

    private static Decoded decode(byte[] body, int piece, boolean strip) {
        BodyFramer framer = BodyFramer.chunked(strip);
        ByteBuffer in = ByteBuffer.allocate(body.length).flip();
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        int given = 0;
        int consumed = 0;
        try {
            while (!framer.done()) {
                int n = framer.next(in);
                assertThat(n).isBetween(0, in.remaining());
                if (n > 0) {
                    if (framer.keep) {
                        kept.write(in.array(), in.position(), n);
                    }
                    in.position(in.position() + n);
                    consumed += n;
                    continue;
                }
                if (given == body.length) {
                    break;
                }
                int more = Math.min(piece, body.length - given);
                in.compact().put(body, given, more).flip();
                given += more;
            }
        } catch (HttpException e) {
            return new Decoded(consumed, false, e.getMessage(), kept.toByteArray());
        }
        return new Decoded(consumed, framer.done(), null, kept.toByteArray());
    }
}
