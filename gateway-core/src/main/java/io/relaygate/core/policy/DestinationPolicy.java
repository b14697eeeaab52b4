package io.relaygate.core.policy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Which resolved destinations a remote gateway may dial (RELIABILITY.md, rows B). By default it refuses loopback,
 * link-local (and the cloud metadata addresses), RFC 1918, CGNAT, unspecified, multicast, broadcast, ULA, the
 * IPv4-mapped and -compatible forms of all of these, and the SMTP ports; an allow-list opens what a deployment
 * needs. The check runs on the address that will be dialled, after resolution, so a name cannot rebind between
 * check and connect. Immutable; thread-safe.
 */
public final class DestinationPolicy {

    /** Lets everything through: the local role does not restrict destinations. */
    public static final DestinationPolicy OPEN = new DestinationPolicy(false, List.of());

    private static final int[] SMTP_PORTS = {25, 465, 587};

    private final boolean restrictive;
    private final List<Rule> allowed;

    /**
     * One allow-list entry: a CIDR block and a port range.
     *
     * @param network  the block's first address
     * @param prefix   its prefix length
     * @param lowPort  first port allowed
     * @param highPort last port allowed
     */
    public record Rule(InetAddress network, int prefix, int lowPort, int highPort) {

        /**
         * Parses {@code CIDR[:PORTS]}: {@code 127.0.0.1/32}, {@code 10.0.0.0/8:8000-9000}, {@code ::1/128:8080};
         * an IPv6 block with ports needs the ports after the prefix ({@code ::1/128:8080}).
         *
         * @throws IllegalArgumentException naming the expectation
         */
        public static Rule parse(String text) {
            int slash = text.indexOf('/');
            if (slash <= 0) {
                throw new IllegalArgumentException("\"" + text + "\" (expected: CIDR[:PORTS], e.g. 127.0.0.1/32 or"
                        + " ::1/128:8000-9000)");
            }
            String rest = text.substring(slash + 1);
            int colon = rest.indexOf(':');
            String prefixText = colon < 0 ? rest : rest.substring(0, colon);
            String ports = colon < 0 ? "1-65535" : rest.substring(colon + 1);
            InetAddress network;
            int prefix;
            int low;
            int high;
            try {
                network = literal(text.substring(0, slash));
                prefix = Integer.parseInt(prefixText);
                String[] range = ports.split("-", -1);
                low = Integer.parseInt(range[0]);
                high = range.length == 2 ? Integer.parseInt(range[1]) : low;
                if (range.length > 2) {
                    throw new NumberFormatException(ports);
                }
            } catch (NumberFormatException | UnknownHostException e) {
                throw new IllegalArgumentException("\"" + text + "\" (expected: CIDR[:PORTS], e.g. 127.0.0.1/32 or"
                        + " ::1/128:8000-9000)");
            }
            int bits = network.getAddress().length * 8;
            if (prefix < 0 || prefix > bits || low < 1 || high > 65_535 || low > high) {
                throw new IllegalArgumentException("\"" + text + "\" (expected: a prefix from 0 to " + bits
                        + " and ports from 1 to 65535)");
            }
            return new Rule(network, prefix, low, high);
        }

        /** {@return whether {@code address}, connecting on or to {@code port}, falls under this rule} */
        public boolean matches(InetAddress address, int port) {
            return port >= lowPort && port <= highPort && inBlock(address, network, prefix);
        }
    }

    /** {@return whether {@code address} falls in one of the blocks of {@code rules}, whatever their ports} */
    public static boolean anyBlockHolds(List<Rule> rules, InetAddress address) {
        for (Rule rule : rules) {
            if (rule.matches(address, rule.lowPort())) {
                return true;
            }
        }
        return false;
    }

    private DestinationPolicy(boolean restrictive, List<Rule> allowed) {
        this.restrictive = restrictive;
        this.allowed = List.copyOf(allowed);
    }

    /** {@return the remote's policy: the default refusals, opened by {@code allowed}} */
    public static DestinationPolicy restrictive(List<Rule> allowed) {
        return new DestinationPolicy(true, allowed);
    }

    /**
     * {@return null if {@code target} may be dialled, else why not}
     *
     * @param ownListeners the gateway's own listening sockets, always refused
     */
    public String refusal(InetSocketAddress target, Collection<InetSocketAddress> ownListeners) {
        InetAddress address = unwrap(target.getAddress());
        int port = target.getPort();
        // On both roles: a tunnel into the gateway's own listeners (the console among them) loops or reaches what
        // only this machine should.
        for (InetSocketAddress own : ownListeners) {
            if (own.getPort() == port && (own.getAddress().isAnyLocalAddress() || own.getAddress().equals(address)
                    || address.isLoopbackAddress() || address.isAnyLocalAddress())) {
                return "the gateway's own listener";
            }
        }
        if (!restrictive) {
            return null;
        }
        for (Rule rule : allowed) {
            if (rule.matches(address, port) || rule.matches(target.getAddress(), port)) {
                return null;
            }
        }
        String special = specialPurpose(address);
        if (special != null) {
            return special;
        }
        for (int smtp : SMTP_PORTS) {
            if (port == smtp) {
                return "SMTP port " + port;
            }
        }
        return null;
    }

    /**
     * The IPv4 address an IPv6 address carries, where one reaches that IPv4 host: IPv4-mapped ({@code ::ffff:a.b.c.d}),
     * -compatible ({@code ::a.b.c.d}), SIIT ({@code ::ffff:0:a.b.c.d}), well-known NAT64 ({@code 64:ff9b::/96}),
     * 6to4 ({@code 2002:WWXX:YYZZ::/48}) and Teredo ({@code 2001::/32}: the client's address is the complement of the
     * last 32 bits). Other addresses come back unchanged. The local-use NAT64 block ({@code 64:ff9b:1::/48}) puts the
     * IPv4 address where its operator chose, so it is refused as a whole instead.
     */
    static InetAddress unwrap(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] b = address.getAddress();
        boolean zeros8 = true;
        for (int i = 0; i < 8; i++) {
            zeros8 &= b[i] == 0;
        }
        boolean zeros10 = zeros8 && b[8] == 0 && b[9] == 0;
        boolean mapped = zeros10 && b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
        boolean compatible = zeros10 && b[10] == 0 && b[11] == 0 && (b[12] | b[13] | b[14]) != 0;
        boolean siit = zeros8 && b[8] == (byte) 0xFF && b[9] == (byte) 0xFF && b[10] == 0 && b[11] == 0;
        boolean nat64 = b[0] == 0 && b[1] == 0x64 && b[2] == (byte) 0xFF && b[3] == (byte) 0x9B
                && (b[4] | b[5] | b[6] | b[7] | b[8] | b[9] | b[10] | b[11]) == 0;
        if (mapped || compatible || siit || nat64) {
            return ipv4(b[12], b[13], b[14], b[15]);
        }
        if (b[0] == 0x20 && b[1] == 0x02) {
            return ipv4(b[2], b[3], b[4], b[5]);
        }
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
            return ipv4((byte) ~b[12], (byte) ~b[13], (byte) ~b[14], (byte) ~b[15]);
        }
        return address;
    }

    private static InetAddress ipv4(byte a, byte b, byte c, byte d) {
        try {
            return InetAddress.getByAddress(new byte[] {a, b, c, d});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final List<Object[]> SPECIAL = new ArrayList<>();

    static {
        special("0.0.0.0/8", "unspecified");
        special("10.0.0.0/8", "private (RFC 1918)");
        special("100.64.0.0/10", "CGNAT");
        special("127.0.0.0/8", "loopback");
        special("169.254.0.0/16", "link-local");
        special("172.16.0.0/12", "private (RFC 1918)");
        special("192.0.0.0/24", "IETF protocol assignments");
        special("192.168.0.0/16", "private (RFC 1918)");
        special("198.18.0.0/15", "benchmarking");
        special("224.0.0.0/4", "multicast");
        special("240.0.0.0/4", "reserved or broadcast");
        special("::/128", "unspecified");
        special("::1/128", "loopback");
        special("fc00::/7", "unique local (ULA)");
        special("fe80::/10", "link-local");
        special("ff00::/8", "multicast");
        special("fd00:ec2::254/128", "cloud metadata");
        special("64:ff9b:1::/48", "NAT64 (local use)");
    }

    private static void special(String cidr, String why) {
        Rule rule = Rule.parse(cidr);
        SPECIAL.add(new Object[] {rule.network(), rule.prefix(), why});
    }

    private static String specialPurpose(InetAddress address) {
        if (address.getHostAddress().equals("100.100.100.200")) {
            return "cloud metadata";
        }
        for (Object[] entry : SPECIAL) {
            if (inBlock(address, (InetAddress) entry[0], (Integer) entry[1])) {
                return (String) entry[2];
            }
        }
        return null;
    }

    private static boolean inBlock(InetAddress address, InetAddress network, int prefix) {
        if ((address instanceof Inet4Address) != (network instanceof Inet4Address)) {
            return false;
        }
        byte[] a = address.getAddress();
        byte[] n = network.getAddress();
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != n[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (a[full] & mask) == (n[full] & mask);
    }

    private static InetAddress literal(String text) throws UnknownHostException {
        io.relaygate.spi.Destination parsed;
        try {
            parsed = io.relaygate.spi.Destination.parse(text, 1);
        } catch (IllegalArgumentException e) {
            throw new UnknownHostException(text);
        }
        if (parsed.isName()) {
            throw new UnknownHostException(text);
        }
        return parsed.address();
    }
}
