package io.relaygate.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AccountRulesTest {

    @Test
    void ratesTakeBinaryAndDecimalUnitsAndAnOptionalPerSecond() {
        assertThat(AccountRules.parseRate("0")).isZero();
        assertThat(AccountRules.parseRate("1500")).isEqualTo(1500);
        assertThat(AccountRules.parseRate("64KiB")).isEqualTo(64 * 1024);
        assertThat(AccountRules.parseRate("1MiB/s")).isEqualTo(1 << 20);
        assertThat(AccountRules.parseRate(" 10 mb ")).isEqualTo(10_000_000);
        assertThat(AccountRules.parseRate("1TiB")).isEqualTo(1L << 40);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1.5MiB", "fast", "1MiB/h", "99999999999999999999", "1 KiB KiB"})
    void anythingElseIsRefusedWithTheExpectedForm(String text) {
        assertThatThrownBy(() -> AccountRules.parseRate(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("rate: expected bytes per second");
    }

    @Test
    void numericRatesAreBounded() {
        assertThat(AccountRules.checkRate(AccountRules.MAX_RATE)).isEqualTo(AccountRules.MAX_RATE);
        assertThatThrownBy(() -> AccountRules.checkRate(-1)).hasMessageStartingWith("rate: expected 0");
        assertThatThrownBy(() -> AccountRules.checkRate(AccountRules.MAX_RATE + 1)).hasMessageStartingWith("rate:");
        assertThatThrownBy(() -> AccountRules.parseRate("2000TiB")).hasMessageStartingWith("rate: expected 0");
    }
}
