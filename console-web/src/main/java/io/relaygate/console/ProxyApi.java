package io.relaygate.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.relaygate.spi.AdminApi;
import java.io.IOException;
import java.util.Arrays;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /api/status} on both roles, and the local role's {@code /api/proxy/...}: start, stop, settings. */
final class ProxyApi {

    private static final Logger log = LoggerFactory.getLogger(ProxyApi.class);
    static final Set<String> SETTINGS_FIELDS = Set.of("remoteHost", "remotePort", "user", "password",
            "remoteFingerprint");

    private final AdminApi admin;
    private final ObjectMapper json;
    private final StatsHub stats;

    ProxyApi(AdminApi admin, ObjectMapper json, StatsHub stats) {
        this.admin = admin;
        this.json = json;
        this.stats = stats;
    }

    void status(Context ctx) {
        AdminApi.Snapshot now = admin.snapshot();
        ObjectNode status = json.createObjectNode();
        status.put("role", admin.context().role().name().toLowerCase(java.util.Locale.ROOT));
        AdminApi.ProxyControl proxy = admin.proxy().orElse(null);
        status.put("running", proxy == null || proxy.running());
        ObjectNode listeners = status.putObject("listeners");
        now.listeners().forEach((name, address) -> listeners.put(name, ConsoleServer.hostPort(address)));
        status.put("openConnections", now.openConnections());
        status.put("totalConnections", now.totalConnections());
        status.put("openTunnels", now.openTunnels());
        status.put("totalTunnels", now.totalTunnels());
        status.put("bytesUp", now.bytesUp());
        status.put("bytesDown", now.bytesDown());
        JsonNode latest = latest();
        status.put("upBytesPerSecond", latest.path("upBytesPerSecond").asLong());
        status.put("downBytesPerSecond", latest.path("downBytesPerSecond").asLong());
        status.put("statsClients", stats.clients());
        if (proxy != null) {
            status.set("settings", settingsJson(proxy.settings()));
            AdminApi.LinkStatus link = proxy.link();
            if (link != null) {
                ObjectNode node = status.putObject("link");
                node.put("state", link.state());
                node.put("links", link.links());
                node.put("streams", link.streams());
                node.put("roundTripMicros", link.roundTripMicros());
                node.put("lastProblem", link.lastProblem());
                node.put("refusedOpens", link.refusedOpens());
                if (link.lastProblemAt() > 0) {
                    node.put("lastProblemAt", java.time.Instant.ofEpochMilli(link.lastProblemAt()).toString());
                } else {
                    node.putNull("lastProblemAt");
                }
            }
        }
        send(ctx, status);
    }

    void start(Context ctx) {
        AdminApi.ProxyControl proxy = localOnly();
        try {
            proxy.start();
        } catch (IOException e) {
            throw new HttpResponseException(409, "cannot open the proxy listener: " + e.getMessage());
        }
        running(ctx, proxy);
    }

    void stop(Context ctx) {
        AdminApi.ProxyControl proxy = localOnly();
        proxy.stop();
        running(ctx, proxy);
    }

    void settings(Context ctx) {
        AdminApi.ProxyControl proxy = localOnly();
        JsonNode body = Requests.object(ctx, json, SETTINGS_FIELDS);
        String host = Requests.text(body, "remoteHost");
        JsonNode portNode = body.get("remotePort");
        int port = 0;
        if (host != null && !host.isBlank()) {
            if (portNode == null || !portNode.canConvertToInt() || !portNode.isIntegralNumber()) {
                throw new BadRequestResponse("remotePort: expected 1 to 65535");
            }
            port = portNode.intValue();
        }
        String user = Requests.text(body, "user");
        String fingerprint = Requests.text(body, "remoteFingerprint");
        byte[] password = Requests.password(body);
        try {
            proxy.apply(new AdminApi.ProxySettings(host, port, user, password != null, fingerprint),
                    password);
        } catch (IllegalArgumentException e) {
            throw new BadRequestResponse(e.getMessage());
        } catch (IOException e) {
            log.warn("console: saving the proxy settings failed: {}", e.toString());
            throw new HttpResponseException(500, "cannot save the settings: " + e.getMessage());
        } finally {
            if (password != null) {
                Arrays.fill(password, (byte) 0);
            }
        }
        send(ctx, settingsJson(proxy.settings()));
    }

    private AdminApi.ProxyControl localOnly() {
        return admin.proxy().orElseThrow(() -> new HttpResponseException(409,
                "only the local role has a proxy to control"));
    }

    private void running(Context ctx, AdminApi.ProxyControl proxy) {
        ObjectNode answer = json.createObjectNode();
        answer.put("running", proxy.running());
        send(ctx, answer);
    }

    private ObjectNode settingsJson(AdminApi.ProxySettings settings) {
        ObjectNode node = json.createObjectNode();
        node.put("remoteHost", settings.remoteHost());
        node.put("remotePort", settings.remotePort());
        node.put("user", settings.user());
        node.put("passwordSet", settings.passwordSet());
        node.put("remoteFingerprint", settings.remoteFingerprint());
        return node;
    }

    private JsonNode latest() {
        String latest = stats.latest();
        try {
            return latest == null ? json.createObjectNode() : json.readTree(latest);
        } catch (IOException e) {
            return json.createObjectNode();
        }
    }

    private static void send(Context ctx, JsonNode body) {
        ctx.contentType("application/json").result(body.toString());
    }
}
