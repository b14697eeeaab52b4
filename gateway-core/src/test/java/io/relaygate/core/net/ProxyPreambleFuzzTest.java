package io.relaygate.core.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;

/**
 * Fuzz target for the PROXY protocol header a trusted load balancer (or anyone spoofing one) sends: read as the
 * preface reads it, never past what {@link ProxyPreamble#needed} allows, refusing with
 * {@link IllegalArgumentException} only, never reading beyond its input. Seeds in
 * {@code src/test/resources/.../ProxyPreambleFuzzTestInputs/headers/}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class ProxyPreambleFuzzTest {

    @FuzzTest(maxExecutions = 1_000_000)
    void headers(byte[] input) {
        ByteBuffer read = ByteBuffer.allocate(16 + ProxyPreamble.MAX_V2_PAYLOAD);
        int offset = 0;
        try {
            while (true) {
                int needed = ProxyPreamble.needed(read.duplicate().flip());
                assertThat(needed).isGreaterThanOrEqualTo(0);
                if (needed == 0) {
                    ProxyPreamble.Header header = ProxyPreamble.decode(read.duplicate().flip());
                    assertThat(header.source() == null).isEqualTo(header.destination() == null);
                    return;
                }
                assertThat(read.position() + needed).as("within the largest header").isLessThanOrEqualTo(
                        read.capacity());
                int take = Math.min(needed, input.length - offset);
                if (take == 0) {
                    return;                     // the input ended inside the header: the preface waits for more
                }
                read.put(input, offset, take);
                offset += take;
            }
        } catch (IllegalArgumentException expected) {
            assertThat(expected.getMessage()).isNotNull();
        }
    }
}
