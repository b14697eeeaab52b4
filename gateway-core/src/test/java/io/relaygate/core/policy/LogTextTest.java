package io.relaygate.core.policy;

import io.relaygate.core.policy.LogText;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Client text in log lines: nothing that breaks, reorders or hides part of a line gets through raw. */
class LogTextTest {

    @Test
    void controlAndQuotingCharactersAreHexEscaped() {
        assertThat(LogText.escape("a b\r\n\"c\\")).isEqualTo("a\\x20b\\x0d\\x0a\\x22c\\x5c");
    }

    @Test
    void bidirectionalInvisibleAndSeparatorCharactersAreEscaped() {
        assertThat(LogText.escape("user\u202Eexe.txt")).isEqualTo("user\\u{202e}exe.txt");
        for (char c : new char[] {'\u200B', '\u200E', '\u2066', '\u2069', '\uFEFF', '\u2028', '\u2029', '\u0085',
            '\u00A0', '\uE000', '\uD800'}) {
            assertThat(LogText.escape("a" + c + "b")).as("U+%04X", (int) c).startsWith("a\\u{").endsWith("}b");
        }
    }

    @Test
    void printableTextOfAnyScriptStaysReadable() {
        assertThat(LogText.escape("алиса_東京-1.2")).isEqualTo("алиса_東京-1.2");
        assertThat(LogText.escape("emoji\uD83D\uDE00")).isEqualTo("emoji\uD83D\uDE00");
    }

    @Test
    void longTextIsCut() {
        assertThat(LogText.escape("x".repeat(1000))).hasSize(259).endsWith("...");
    }
}
