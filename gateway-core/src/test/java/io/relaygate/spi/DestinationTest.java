package io.relaygate.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Destinations: literals parse without DNS; odd numeric forms are names; bad names never get through. */
class DestinationTest {

    @Test
    void literalsAreAddresses() {
        assertThat(Destination.parse("127.0.0.1", 80).address()).isInstanceOf(Inet4Address.class);
        assertThat(Destination.parse("::1", 80).address()).isInstanceOf(Inet6Address.class);
        assertThat(Destination.parse("::ffff:127.0.0.1", 80).address()).isNotNull();
        assertThat(Destination.parse("example.org", 443).isName()).isTrue();
        assertThat(Destination.parse("::1", 8443)).hasToString("[0:0:0:0:0:0:0:1]:8443");
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.1", "0x7f000001", "2130706433", "0177.0.0.1", "0177.1", "0x7f.0.0.01", "127.0.1",
            "017700000001", "127.0.0.1."})
    void nonCanonicalNumericFormsAreReadAsTheCLibraryReadsThem(String host) {
        // The JDK would read 0177.0.0.1 as 177.0.0.1 while curl and libc mean 127.0.0.1: the policy must see that.
        Destination parsed = Destination.parse(host, 80);
        assertThat(parsed.isName()).isFalse();
        assertThat(parsed.address().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(parsed).hasToString("127.0.0.1:80");
    }

    @ParameterizedTest
    @ValueSource(strings = {"256.1.1.1", "1.2.3.4.5", "09.1.1.1", "1.2.3.256", "1.2.65536",
            "4294967296", "example.123"})
    void numericLookingNamesThatNoAddressFormExplainsAreRefused(String host) {
        assertThatThrownBy(() -> Destination.parse(host, 80)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a b", "a..b", ".a", "a_b!", "-a", "a-", "a\u0000", "x\r\ny", "ünïcode"})
    void invalidNamesAreRefused(String host) {
        assertThatThrownBy(() -> Destination.parse(host, 80)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void namesUpToTheDnsLimitAreAccepted() {
        String label = "a".repeat(63);
        String name = String.join(".", label, label, label, "a".repeat(61));
        assertThat(name).hasSize(253);
        assertThat(Destination.parse(name, 1).isName()).isTrue();
        assertThat(Destination.parse("example.org.", 1).isName()).isTrue();
        assertThatThrownBy(() -> Destination.parse(name + "a", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Destination.parse("a".repeat(64), 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void portsOutsideTheRangeAreRefused() {
        assertThatThrownBy(() -> Destination.parse("example.org", 0)).hasMessageContaining("expected: 1-65535");
        assertThatThrownBy(() -> Destination.parse("example.org", 65_536)).isInstanceOf(IllegalArgumentException.class);
    }
}
