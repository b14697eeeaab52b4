package io.relaygate.core.config;

import io.relaygate.core.policy.DestinationPolicy;
import io.relaygate.spi.ConfigException;
import io.relaygate.spi.GatewayContext.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** The reverse tunnel's settings: the remote's public port pool, and the services a local exposes. */
public final class ReverseConfig {

    /** A service name: what the local registers and the remote shows. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** The most visitor address blocks per service: they travel in one link frame. */
    private static final int MAX_ALLOW_FROM = 64;

    private ReverseConfig() {
    }

    /**
     * The remote's public ports for exposed services.
     *
     * @param bind    the address the public ports listen on
     * @param ports   the pool: the remote never listens outside it; empty when the reverse tunnel is off
     * @param holdFor how long a vanished local's ports stay reserved for its user
     */
    public record Pool(String bind, BitSet ports, Duration holdFor) {
        public Pool {
            ports = (BitSet) ports.clone();
        }

        @Override
        public BitSet ports() {
            return (BitSet) ports.clone();
        }

        /** {@return whether {@code port} is in the pool} */
        public boolean contains(int port) {
            return port > 0 && port <= 65_535 && ports.get(port);
        }

        /** {@return whether the pool has any port, that is, whether the reverse tunnel is on} */
        public boolean enabled() {
            return !ports.isEmpty();
        }
    }

    /**
     * A service a local exposes on a public port of its remote.
     *
     * @param name          its name, {@code [A-Za-z0-9._-]{1,64}}
     * @param target        where the local connects for each visitor, and nowhere else
     * @param remotePort    the public port asked for, or 0 for any from the pool
     * @param allowFrom     visitor addresses allowed (empty: any); checked by the remote before a stream opens
     * @param maxVisitors   concurrent visitors at most, 0 for no cap
     * @param proxyProtocol whether the service gets a PROXY protocol v2 header with the visitor's address first
     */
    public record Exposed(String name, HostPort target, int remotePort, List<DestinationPolicy.Rule> allowFrom,
                          int maxVisitors, boolean proxyProtocol) {
        public Exposed {
            allowFrom = List.copyOf(allowFrom);
        }
    }

    static Pool pool(SectionConfig c, Role role) {
        String bind = c.getString("reverse.bind", "0.0.0.0");
        String text = c.getString("reverse.ports", "");
        Duration holdFor = c.getDuration("reverse.holdFor", Duration.ofMinutes(10), Duration.ZERO, Duration.ofDays(30));
        BitSet ports = ports(text);
        if (role == Role.LOCAL && !ports.isEmpty()) {
            throw new ConfigException("reverse.ports", "only for the remote role (expected: a local exposes services"
                    + " with expose)");
        }
        boolean literal = bind.matches("[0-9.]+") || bind.contains(":");
        try {
            if (literal) {
                java.net.InetAddress.getByName(bind);     // a literal: parsed, never looked up
            }
        } catch (java.net.UnknownHostException e) {
            literal = false;
        }
        if (!literal) {
            throw new ConfigException("reverse.bind", "\"" + bind + "\" (expected: an IP address such as 0.0.0.0"
                    + " or ::)");
        }
        return new Pool(bind, ports, holdFor);
    }

    private static BitSet ports(String text) {
        BitSet ports = new BitSet(65_536);
        for (String item : text.split(",")) {
            String range = item.trim();
            if (range.isEmpty()) {
                continue;
            }
            String[] ends = range.split("-", -1);
            int low;
            int high;
            try {
                low = Integer.parseInt(ends[0].trim());
                high = ends.length == 2 ? Integer.parseInt(ends[1].trim()) : low;
            } catch (NumberFormatException e) {
                low = -1;
                high = -1;
            }
            if (ends.length > 2 || low < 1 || high > 65_535 || low > high) {
                throw new ConfigException("reverse.ports", "\"" + range + "\" (expected: ports and ranges from 1 to"
                        + " 65535, such as 60000-60099, 61000)");
            }
            ports.set(low, high + 1);
        }
        return ports;
    }

    static List<Exposed> exposed(SectionConfig c, Settings settings, Role role, HostPort remote) {
        Set<String> entries = settings.sectionsUnder("expose.");
        if (entries.isEmpty()) {
            return List.of();
        }
        if (role != Role.LOCAL || remote == null) {
            throw new ConfigException("expose", "only for a local with --remote (expected: the remote that gives the"
                    + " services their public ports)");
        }
        List<Exposed> exposed = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String entry : entries) {
            String key = "expose." + entry + ".";
            String name = c.getString(key + "name", null);
            if (name == null || !NAME.matcher(name).matches()) {
                throw new ConfigException(key + "name", (name == null ? "missing" : "\"" + name + "\"")
                        + " (expected: 1 to 64 of A-Z a-z 0-9 . _ -)");
            }
            if (!names.add(name)) {
                throw new ConfigException(key + "name", "\"" + name + "\" (expected: a name no other exposed service"
                        + " has)");
            }
            String targetText = c.getString(key + "target", null);
            if (targetText == null) {
                throw new ConfigException(key + "target", "missing (expected: HOST:PORT of the service)");
            }
            HostPort target = HostPort.parse(targetText);
            if (target == null || target.port() == 0) {
                throw new ConfigException(key + "target", "\"" + targetText + "\" (expected: HOST:PORT of the service)");
            }
            int remotePort = (int) c.getLong(key + "remotePort", 0, 0, 65_535);
            List<DestinationPolicy.Rule> allowFrom = new ArrayList<>();
            for (String block : c.getString(key + "allowFrom", "").split(",")) {
                if (block.isBlank()) {
                    continue;
                }
                String cidr = block.trim();
                if (!cidr.contains("/")) {
                    cidr += cidr.contains(":") ? "/128" : "/32";
                }
                try {
                    allowFrom.add(DestinationPolicy.Rule.parse(cidr));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(key + "allowFrom", "\"" + block.trim() + "\" (expected: addresses or"
                            + " CIDR blocks such as 198.51.100.0/24)");
                }
            }
            if (allowFrom.size() > MAX_ALLOW_FROM) {
                throw new ConfigException(key + "allowFrom", allowFrom.size() + " blocks (expected: at most "
                        + MAX_ALLOW_FROM + ")");
            }
            int maxVisitors = (int) c.getLong(key + "maxVisitors", 0, 0, 1_000_000);
            String proxy = c.getString(key + "proxyProtocol", "off").toLowerCase(Locale.ROOT);
            if (!proxy.equals("off") && !proxy.equals("v2")) {
                throw new ConfigException(key + "proxyProtocol", "\"" + proxy + "\" (expected: v2 or off)");
            }
            exposed.add(new Exposed(name, target, remotePort, allowFrom, maxVisitors, proxy.equals("v2")));
        }
        return List.copyOf(exposed);
    }
}
