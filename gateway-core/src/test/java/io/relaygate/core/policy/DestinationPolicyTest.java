package io.relaygate.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The remote's destination policy as a pure function (RELIABILITY.md rows B): no address here is ever dialled, so
 * the refusals are proven without a packet leaving loopback.
 */
class DestinationPolicyTest {

    private static final DestinationPolicy DEFAULT = DestinationPolicy.restrictive(List.of());

    private static String refusal(DestinationPolicy policy, String address, int port) throws Exception {
        return policy.refusal(new InetSocketAddress(InetAddress.getByName(address), port), List.of());
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "169.254.169.254",
        "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "fd00:ec2::254", "100.100.100.200", "0.0.0.0", "10.0.0.1",
        "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "224.0.0.1", "255.255.255.255", "fc00::1",
        "fd12::1", "fe80::1", "::", "ff02::1", "::127.0.0.1", "64:ff9b::7f00:1"})
    void b1ToB4SpecialPurposeAddressesAreRefusedByDefault(String address) throws Exception {
        assertThat(refusal(DEFAULT, address, 443)).as(address).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"::ffff:0:7f00:1", "::ffff:0:a00:1", "2002:7f00:1::1", "2002:a9fe:a9fe::",
        "2002:c0a8:101:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001::f5ff:fffe", "64:ff9b:1::7f00:1",
        "64:ff9b:1:7f00:1::", "64:ff9b:1:5db8:d8:2200::"})
    void siit6to4TeredoAndLocalNat64FormsOfSpecialAddressesAreRefused(String address) throws Exception {
        // SIIT and 6to4 carry the IPv4 address as is, Teredo its complement in the last 32 bits (here 127.0.0.1 and
        // 10.0.0.1); the local-use NAT64 block puts it where its operator chose, so that block is refused whole.
        assertThat(refusal(DEFAULT, address, 443)).as(address).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"2002:5db8:d822::1", "2001:0:4136:e378:8000:63bf:a247:27dd", "2001:4860::8888",
        "64:ff9b::5db8:d822"})
    void theSameFormsOfPublicAddressesPass(String address) throws Exception {
        assertThat(refusal(DEFAULT, address, 443)).as(address).isNull();
    }

    @Test
    void aNonCanonicalNumericNameIsCheckedAsTheAddressTheClientMeant() throws Exception {
        io.relaygate.spi.Destination octal = io.relaygate.spi.Destination.parse("0177.0.0.1", 443);
        assertThat(DEFAULT.refusal(new InetSocketAddress(octal.address(), 443), List.of())).isEqualTo("loopback");
    }

    @Test
    void everyOwnListenerTheConsoleIncludedIsRefusedOnBothRoles() throws Exception {
        InetSocketAddress console = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 8080);
        InetSocketAddress wildcard = new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 7080);
        DestinationPolicy allowAll = DestinationPolicy.restrictive(List.of(DestinationPolicy.Rule.parse("0.0.0.0/0"),
                DestinationPolicy.Rule.parse("::/0")));
        for (DestinationPolicy policy : List.of(allowAll, DestinationPolicy.OPEN)) {
            assertThat(policy.refusal(console, List.of(console, wildcard))).isEqualTo("the gateway's own listener");
            assertThat(policy.refusal(new InetSocketAddress(InetAddress.getByName("::ffff:127.0.0.1"), 8080),
                    List.of(console))).as("mapped").isEqualTo("the gateway's own listener");
            assertThat(policy.refusal(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 7080),
                    List.of(console, wildcard))).as("a wildcard listener").isEqualTo("the gateway's own listener");
            assertThat(policy.refusal(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 8080),
                    List.of(console))).as("the unspecified address reaches this host").isEqualTo(
                    "the gateway's own listener");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"93.184.216.34", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:2800:220:1::1"})
    void publicAddressesPass(String address) throws Exception {
        assertThat(refusal(DEFAULT, address, 443)).as(address).isNull();
    }

    @Test
    void b9SmtpPortsAreRefusedUnlessAllowListed() throws Exception {
        assertThat(refusal(DEFAULT, "93.184.216.34", 25)).isEqualTo("SMTP port 25");
        assertThat(refusal(DEFAULT, "93.184.216.34", 465)).isNotNull();
        assertThat(refusal(DEFAULT, "93.184.216.34", 587)).isNotNull();
        DestinationPolicy mail = DestinationPolicy.restrictive(List.of(DestinationPolicy.Rule.parse(
                "93.184.216.0/24:25")));
        assertThat(refusal(mail, "93.184.216.34", 25)).isNull();
    }

    @Test
    void b10AnAllowListOpensExactlyItsBlockAndPorts() throws Exception {
        DestinationPolicy policy = DestinationPolicy.restrictive(List.of(DestinationPolicy.Rule.parse("127.0.0.2/32"),
                DestinationPolicy.Rule.parse("::1/128:8000-9000")));
        assertThat(refusal(policy, "127.0.0.2", 7)).isNull();
        assertThat(refusal(policy, "127.0.0.3", 7)).isEqualTo("loopback");
        assertThat(refusal(policy, "::1", 8080)).isNull();
        assertThat(refusal(policy, "::1", 9001)).isEqualTo("loopback");
        assertThat(refusal(policy, "::ffff:127.0.0.2", 7)).as("mapped form of an allowed address").isNull();
    }

    @Test
    void b1TheGatewaysOwnListenersAreRefusedEvenWhenAllowListed() throws Exception {
        DestinationPolicy policy = DestinationPolicy.restrictive(List.of(DestinationPolicy.Rule.parse("0.0.0.0/0")));
        InetSocketAddress own = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 7080);
        assertThat(policy.refusal(own, List.of(own))).isEqualTo("the gateway's own listener");
        assertThat(policy.refusal(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 7081), List.of(own)))
                .isNull();
    }

    @Test
    void theOpenPolicyRefusesNothing() throws Exception {
        assertThat(refusal(DestinationPolicy.OPEN, "127.0.0.1", 25)).isNull();
    }

    @Test
    void rulesAreParsedStrictly() {
        assertThat(DestinationPolicy.Rule.parse("10.0.0.0/8:8000-9000").lowPort()).isEqualTo(8000);
        for (String bad : new String[] {"10.0.0.0", "10.0.0.0/33", "example.org/32", "10.0.0.0/8:0", "10.0.0.0/8:9-1",
            "::1/129", "10.0.0.0/8:1-2-3"}) {
            assertThatThrownBy(() -> DestinationPolicy.Rule.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected");
        }
    }
}
