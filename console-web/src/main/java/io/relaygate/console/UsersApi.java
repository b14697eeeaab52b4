package io.relaygate.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.ConflictResponse;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.NotFoundResponse;
import io.relaygate.spi.Account;
import io.relaygate.spi.AccountExistsException;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreException;
import io.relaygate.spi.AccountUpdate;
import io.relaygate.spi.AdminApi;
import io.relaygate.spi.ScramCredential;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/users}: the account store over HTTP. Passwords are accepted, turned into SCRAM material at once and
 * wiped; nothing secret is ever returned. Handlers run on the console's threads, where blocking (JDBC, PBKDF2) is fine.
 */
final class UsersApi {

    private static final Logger log = LoggerFactory.getLogger(UsersApi.class);
    static final Set<String> CREATE_FIELDS = Set.of("name", "password", "rate", "enabled", "exposePorts");
    static final Set<String> UPDATE_FIELDS = Set.of("password", "rate", "enabled", "exposePorts");

    private final AdminApi admin;
    private final ObjectMapper json;

    UsersApi(AdminApi admin, ObjectMapper json) {
        this.admin = admin;
        this.json = json;
    }

    private AccountStore store() {
        return admin.accounts().orElseThrow(() -> new HttpResponseException(409,
                "this gateway has no account store (set accountStore)"));
    }

    void list(Context ctx) {
        Map<String, AdminApi.Principal> live = live();
        ArrayNode users = json.createArrayNode();
        for (Account account : guarded(() -> store().list())) {
            users.add(toJson(account, live.get(account.name())));
        }
        ctx.contentType("application/json").result(users.toString());
    }

    void get(Context ctx) {
        String name = Requests.name(ctx.pathParam("name"));
        Account account = guarded(() -> store().find(name)).orElseThrow(() -> new NotFoundResponse("no such user"));
        ctx.contentType("application/json").result(toJson(account, live().get(name)).toString());
    }

    void create(Context ctx) {
        JsonNode body = Requests.object(ctx, json, CREATE_FIELDS);
        String name = Requests.name(Requests.text(body, "name"));
        byte[] password = Requests.password(body);
        if (password == null) {
            throw new io.javalin.http.BadRequestResponse("password: expected 1 to 1024 bytes");
        }
        Long rate = Requests.rate(body);
        Boolean enabled = Requests.bool(body, "enabled");
        Integer exposePorts = Requests.exposePorts(body);
        ScramCredential credential;
        try {
            credential = admin.credential(password);
        } finally {
            Arrays.fill(password, (byte) 0);
        }
        Account created;
        try {
            created = guarded(() -> store().create(Account.create(name, credential, rate == null ? 0 : rate,
                    enabled == null || enabled).withExposePorts(exposePorts == null ? 0 : exposePorts)));
        } catch (AccountExistsException e) {
            throw new ConflictResponse("user " + name + " exists");
        }
        log.info("console: user {} created", name);
        ctx.status(201).contentType("application/json").result(toJson(created, null).toString());
    }

    void update(Context ctx) {
        String name = Requests.name(ctx.pathParam("name"));
        JsonNode body = Requests.object(ctx, json, UPDATE_FIELDS);
        byte[] password = Requests.password(body);
        Long rate = Requests.rate(body);
        Boolean enabled = Requests.bool(body, "enabled");
        Integer exposePorts = Requests.exposePorts(body);
        if (password == null && rate == null && enabled == null && exposePorts == null) {
            throw new io.javalin.http.BadRequestResponse("nothing to change (expected: password, rate, enabled or"
                    + " exposePorts)");
        }
        ScramCredential credential = null;
        if (password != null) {
            try {
                credential = admin.credential(password);
            } finally {
                Arrays.fill(password, (byte) 0);
            }
        }
        AccountUpdate update = new AccountUpdate(credential, rate, enabled, exposePorts);
        Account updated = guarded(() -> store().update(name, update))
                .orElseThrow(() -> new NotFoundResponse("no such user"));
        log.info("console: user {} updated", name);
        ctx.contentType("application/json").result(toJson(updated, live().get(name)).toString());
    }

    void delete(Context ctx) {
        String name = Requests.name(ctx.pathParam("name"));
        if (!guarded(() -> store().delete(name))) {
            throw new NotFoundResponse("no such user");
        }
        log.info("console: user {} deleted", name);
        ctx.status(204);
    }

    private Map<String, AdminApi.Principal> live() {
        Map<String, AdminApi.Principal> byName = new HashMap<>();
        admin.snapshot().principals().forEach(p -> byName.put(p.name(), p));
        return byName;
    }

    private ObjectNode toJson(Account account, AdminApi.Principal live) {
        ObjectNode user = json.createObjectNode();
        user.put("name", account.name());
        user.put("rate", account.rate());
        user.put("enabled", account.enabled());
        user.put("exposePorts", account.exposePorts());
        user.put("created", account.created().toString());
        user.put("updated", account.updated().toString());
        user.put("bytesUp", account.bytesUp());
        user.put("bytesDown", account.bytesDown());
        // Tunnels relaying now, and idle authenticated links apart: a local's warm pool is no traffic.
        user.put("tunnels", live == null ? 0 : live.tunnels());
        user.put("links", live == null ? 0 : live.links());
        return user;
    }

    /** Runs a store call; a failing store is a 503, not a 500. */
    private static <T> T guarded(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (AccountStoreException e) {
            log.warn("console: the account store failed: {}", e.getMessage());
            throw new HttpResponseException(503, "the account store is unavailable");
        } catch (UnsupportedOperationException e) {
            throw new HttpResponseException(405, e.getMessage());
        }
    }
}
