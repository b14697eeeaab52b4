package io.relaygate.console;

import io.relaygate.spi.AdminApi;
import java.util.Map;

/** The gateway's counters in the Prometheus text exposition format (version 0.0.4). */
final class Metrics {

    private Metrics() {
    }

    static String render(AdminApi.Snapshot s) {
        return render(s, java.util.List.of());
    }

    /**
     * @param tunnels the reverse tunnel's services: their labels (user, service) stay bounded, by the remote's port
     *                pool or the local's configuration
     */
    static String render(AdminApi.Snapshot s, java.util.List<AdminApi.Tunnel> tunnels) {
        StringBuilder out = new StringBuilder(2048);
        metric(out, "relaygate_connections_open", "gauge", "Client connections open now.");
        sample(out, "relaygate_connections_open", "", s.openConnections());
        metric(out, "relaygate_connections_total", "counter", "Client connections accepted since start.");
        sample(out, "relaygate_connections_total", "", s.totalConnections());
        metric(out, "relaygate_tunnels_open", "gauge", "Tunnels relaying now.");
        sample(out, "relaygate_tunnels_open", "", s.openTunnels());
        metric(out, "relaygate_tunnels_total", "counter", "Tunnels that reached the relay since start.");
        sample(out, "relaygate_tunnels_total", "", s.totalTunnels());
        metric(out, "relaygate_bytes_total", "counter", "Bytes relayed, by direction (up: client to destination).");
        sample(out, "relaygate_bytes_total", "{direction=\"up\"}", s.bytesUp());
        sample(out, "relaygate_bytes_total", "{direction=\"down\"}", s.bytesDown());
        metric(out, "relaygate_udp_associations_open", "gauge", "UDP associations open now.");
        sample(out, "relaygate_udp_associations_open", "", s.udp().openAssociations());
        metric(out, "relaygate_udp_datagrams_total", "counter",
                "Datagrams relayed, by direction (up: client to destination).");
        sample(out, "relaygate_udp_datagrams_total", "{direction=\"up\"}", s.udp().datagramsUp());
        sample(out, "relaygate_udp_datagrams_total", "{direction=\"down\"}", s.udp().datagramsDown());
        metric(out, "relaygate_udp_dropped_total", "counter", "Datagrams dropped, by reason.");
        for (Map.Entry<String, Long> e : s.udp().dropped().entrySet()) {
            sample(out, "relaygate_udp_dropped_total", "{reason=\"" + escape(e.getKey()) + "\"}", e.getValue());
        }
        metric(out, "relaygate_handshake_failures_total", "counter", "Failed handshakes, by reason.");
        long authFailures = 0;
        for (Map.Entry<String, Long> e : s.handshakeFailures().entrySet()) {
            sample(out, "relaygate_handshake_failures_total", "{reason=\"" + escape(e.getKey()) + "\"}", e.getValue());
            if (e.getKey().contains("authentication")) {
                authFailures += e.getValue();
            }
        }
        metric(out, "relaygate_auth_failures_total", "counter", "Failed logins (SOCKS5, Basic and link).");
        sample(out, "relaygate_auth_failures_total", "", authFailures);
        metric(out, "relaygate_tunnel_failures_total", "counter", "Tunnel setups that failed, by outcome.");
        for (Map.Entry<String, Long> e : s.tunnelFailures().entrySet()) {
            sample(out, "relaygate_tunnel_failures_total", "{outcome=\"" + escape(e.getKey()) + "\"}", e.getValue());
        }
        metric(out, "relaygate_user_bytes_total", "counter", "Bytes relayed per user, by direction.");
        for (AdminApi.Principal p : s.principals()) {
            String user = escape(p.name());
            sample(out, "relaygate_user_bytes_total", "{user=\"" + user + "\",direction=\"up\"}", p.bytesUp());
            sample(out, "relaygate_user_bytes_total", "{user=\"" + user + "\",direction=\"down\"}", p.bytesDown());
        }
        metric(out, "relaygate_user_tunnels", "gauge", "Live tunnels per user.");
        for (AdminApi.Principal p : s.principals()) {
            sample(out, "relaygate_user_tunnels", "{user=\"" + escape(p.name()) + "\"}", p.tunnels());
        }
        metric(out, "relaygate_user_idle_links", "gauge", "Authenticated links carrying no tunnel, per user.");
        for (AdminApi.Principal p : s.principals()) {
            sample(out, "relaygate_user_idle_links", "{user=\"" + escape(p.name()) + "\"}", p.links());
        }
        metric(out, "relaygate_user_rate_limit_bytes", "gauge", "The rate shaping each user, bytes/s; 0 unlimited.");
        for (AdminApi.Principal p : s.principals()) {
            sample(out, "relaygate_user_rate_limit_bytes", "{user=\"" + escape(p.name()) + "\"}", p.rate());
        }
        metric(out, "relaygate_user_quota_bytes", "gauge", "Each user's traffic quota per period, both ways; users"
                + " with a quota only.");
        for (AdminApi.Principal p : s.principals()) {
            if (p.quotaBytes() > 0) {
                sample(out, "relaygate_user_quota_bytes", "{user=\"" + escape(p.name()) + "\"}", p.quotaBytes());
            }
        }
        metric(out, "relaygate_user_quota_used_bytes", "gauge", "Bytes both ways each user has used of their quota in"
                + " the current period; users with a quota only.");
        for (AdminApi.Principal p : s.principals()) {
            if (p.quotaBytes() > 0 && p.quotaUsed() >= 0) {
                sample(out, "relaygate_user_quota_used_bytes", "{user=\"" + escape(p.name()) + "\"}", p.quotaUsed());
            }
        }
        metric(out, "relaygate_user_quota_remaining_bytes", "gauge", "Bytes both ways each user may still move in"
                + " the current period; users with a quota only.");
        for (AdminApi.Principal p : s.principals()) {
            if (p.quotaBytes() > 0 && p.quotaUsed() >= 0) {
                sample(out, "relaygate_user_quota_remaining_bytes", "{user=\"" + escape(p.name()) + "\"}",
                        Math.max(0, p.quotaBytes() - p.quotaUsed()));
            }
        }
        metric(out, "relaygate_ratelimit_parked_seconds_total", "counter",
                "Time tunnel directions spent waiting for tokens, summed, per user.");
        for (AdminApi.Principal p : s.principals()) {
            out.append("relaygate_ratelimit_parked_seconds_total{user=\"").append(escape(p.name())).append("\"} ")
                    .append(p.parkedNanos() / 1e9).append('\n');
        }
        metric(out, "relaygate_ratelimit_shaped_bytes_total", "counter", "Bytes that waited for tokens, per user.");
        for (AdminApi.Principal p : s.principals()) {
            sample(out, "relaygate_ratelimit_shaped_bytes_total", "{user=\"" + escape(p.name()) + "\"}",
                    p.shapedBytes());
        }
        metric(out, "relaygate_exposed_service_up", "gauge",
                "Reverse tunnel services: 1 while listening for visitors (remote) or exposed (local), else 0.");
        for (AdminApi.Tunnel t : tunnels) {
            sample(out, "relaygate_exposed_service_up", labels(t), t.state().equals("active")
                    || t.state().equals("exposed") ? 1 : 0);
        }
        metric(out, "relaygate_exposed_service_visitors", "gauge", "Visitors of each exposed service now.");
        for (AdminApi.Tunnel t : tunnels) {
            sample(out, "relaygate_exposed_service_visitors", labels(t), t.visitors());
        }
        metric(out, "relaygate_exposed_service_bytes_total", "counter",
                "Bytes of each exposed service's visitors, by direction (up: from visitors).");
        for (AdminApi.Tunnel t : tunnels) {
            String base = labels(t);
            String open = base.substring(0, base.length() - 1);
            sample(out, "relaygate_exposed_service_bytes_total", open + ",direction=\"up\"}", t.bytesUp());
            sample(out, "relaygate_exposed_service_bytes_total", open + ",direction=\"down\"}", t.bytesDown());
        }
        return out.toString();
    }

    private static String labels(AdminApi.Tunnel t) {
        return "{user=\"" + escape(t.user() == null ? "" : t.user()) + "\",service=\"" + escape(t.name()) + "\"}";
    }

    private static void metric(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String labels, long value) {
        out.append(name).append(labels).append(' ').append(value).append('\n');
    }

    /** Label values escape backslash, double quote and line feed. */
    static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
