package io.relaygate.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.javalin.http.NotFoundResponse;
import io.relaygate.spi.AdminApi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /api/tunnels}: the reverse tunnel's exposed services, and closing one on a remote. */
final class TunnelsApi {

    private static final Logger log = LoggerFactory.getLogger(TunnelsApi.class);

    private final AdminApi admin;
    private final ObjectMapper json;

    TunnelsApi(AdminApi admin, ObjectMapper json) {
        this.admin = admin;
        this.json = json;
    }

    void list(Context ctx) {
        ArrayNode list = json.createArrayNode();
        for (AdminApi.Tunnel tunnel : admin.tunnels()) {
            ObjectNode item = list.addObject();
            item.put("user", tunnel.user());
            item.put("name", tunnel.name());
            item.put("target", tunnel.target());
            item.put("publicPort", tunnel.publicPort());
            item.put("state", tunnel.state());
            item.put("reason", tunnel.reason());
            item.put("visitors", tunnel.visitors());
            item.put("visits", tunnel.visits());
            item.put("bytesUp", tunnel.bytesUp());
            item.put("bytesDown", tunnel.bytesDown());
        }
        ctx.contentType("application/json").result(list.toString());
    }

    void close(Context ctx) {
        String user = Requests.name(ctx.pathParam("user"));
        String name = ctx.pathParam("name");
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new io.javalin.http.BadRequestResponse("service name: expected 1 to 64 of A-Z a-z 0-9 . _ -");
        }
        if (!admin.closeTunnel(user, name)) {
            throw new NotFoundResponse("no such tunnel");
        }
        log.info("console: tunnel {}/{} closed", user, name);
        ctx.status(204);
    }
}
