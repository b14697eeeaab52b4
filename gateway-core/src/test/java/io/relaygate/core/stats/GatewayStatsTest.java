package io.relaygate.core.stats;

import io.relaygate.core.stats.GatewayStats;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Failure reasons become Prometheus label values: however many distinct ones arrive, the set stays bounded. */
class GatewayStatsTest {

    @Test
    void distinctReasonsBeyondTheCapAreCountedAsOtherAndNoneIsLost() {
        GatewayStats stats = new GatewayStats();
        for (int i = 0; i < 10_000; i++) {
            stats.handshakeFailed("socks5: reason " + i);
        }
        stats.handshakeFailed("socks5: reason 3");
        assertThat(stats.handshakeFailures()).hasSize(GatewayStats.MAX_REASONS + 1)
                .containsEntry("socks5: reason 3", 2L)
                .containsEntry(GatewayStats.OTHER_REASON, 10_000L - GatewayStats.MAX_REASONS);
        assertThat(stats.handshakeFailures().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(10_001);
    }
}
