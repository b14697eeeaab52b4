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
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreException;
import io.relaygate.spi.AccountUpdate;
import io.relaygate.spi.AdminApi;
import io.relaygate.spi.Quota;
import io.relaygate.spi.ScramCredential;
import java.time.Instant;
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
    static final Set<String> LIMIT_FIELDS = Set.of("rate", "rateUp", "rateDown", "maxConnections", "expires", "quota",
            "exposePorts");
    static final Set<String> CREATE_FIELDS = union(LIMIT_FIELDS, "name", "password", "enabled");
    static final Set<String> UPDATE_FIELDS = union(LIMIT_FIELDS, "password", "enabled");

    private static Set<String> union(Set<String> base, String... more) {
        Set<String> all = new java.util.TreeSet<>(base);
        all.addAll(Set.of(more));
        return Set.copyOf(all);
    }

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
        AccountLimits limits;
        Boolean enabled;
        try {
            limits = limits(body).applyTo(AccountLimits.NONE);
            enabled = Requests.bool(body, "enabled");
        } catch (RuntimeException e) {
            Arrays.fill(password, (byte) 0);
            throw e;
        }
        ScramCredential credential;
        try {
            credential = admin.credential(password);
        } finally {
            Arrays.fill(password, (byte) 0);
        }
        Account created;
        try {
            created = guarded(() -> store().create(Account.create(name, credential, enabled == null || enabled,
                    limits)));
        } catch (AccountExistsException e) {
            throw new ConflictResponse("user " + name + " exists");
        }
        log.info("console: user {} created", name);
        ctx.status(201).contentType("application/json").result(toJson(created, null).toString());
    }

    void update(Context ctx) {
        String name = Requests.name(ctx.pathParam("name"));
        JsonNode body = Requests.object(ctx, json, UPDATE_FIELDS);
        AccountUpdate changes = limits(body);
        Boolean enabled = Requests.bool(body, "enabled");
        if (enabled != null) {
            changes = changes.withEnabled(enabled);
        }
        byte[] password = Requests.password(body);
        if (password == null && changes.isEmpty()) {
            throw new io.javalin.http.BadRequestResponse("nothing to change (expected: one of " + UPDATE_FIELDS + ")");
        }
        if (password != null) {
            try {
                changes = changes.withCredential(admin.credential(password));
            } finally {
                Arrays.fill(password, (byte) 0);
            }
        }
        AccountUpdate update = changes;
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

    /** {@return the limit fields of a body as an update; each checked, a 400 naming the first bad one} */
    private static AccountUpdate limits(JsonNode body) {
        AccountUpdate update = AccountUpdate.NONE;
        Long rate = Requests.rate(body, "rate");
        if (rate != null) {
            update = update.withRate(rate);
        }
        Long rateUp = Requests.rate(body, "rateUp");
        if (rateUp != null) {
            update = update.withRateUp(rateUp);
        }
        Long rateDown = Requests.rate(body, "rateDown");
        if (rateDown != null) {
            update = update.withRateDown(rateDown);
        }
        Integer maxConnections = Requests.maxConnections(body);
        if (maxConnections != null) {
            update = update.withMaxConnections(maxConnections);
        }
        java.util.Optional<java.time.Instant> expires = Requests.expires(body);
        if (expires != null) {
            update = update.withExpires(expires.orElse(null));
        }
        Quota quota = Requests.quota(body);
        if (quota != null) {
            update = update.withQuota(quota);
        }
        Integer exposePorts = Requests.exposePorts(body);
        if (exposePorts != null) {
            update = update.withExposePorts(exposePorts);
        }
        return update;
    }

    private Map<String, AdminApi.Principal> live() {
        Map<String, AdminApi.Principal> byName = new HashMap<>();
        admin.snapshot().principals().forEach(p -> byName.put(p.name(), p));
        return byName;
    }

    private ObjectNode toJson(Account account, AdminApi.Principal live) {
        ObjectNode user = json.createObjectNode();
        user.put("name", account.name());
        AccountLimits limits = account.limits();
        Instant now = Instant.now();
        user.put("rate", limits.rate());
        user.put("rateUp", limits.rateUp());
        user.put("rateDown", limits.rateDown());
        user.put("maxConnections", limits.maxConnections());
        user.put("enabled", account.enabled());
        user.put("expires", limits.expires() == null ? null : limits.expires().toString());
        user.put("expired", limits.expiredAt(now));
        Quota quota = limits.quota();
        if (quota.limited()) {
            user.put("quota", quota.toString());
            long used = quotaUsed(account, quota, now);
            user.put("quotaUsed", used);
            user.put("quotaRemaining", Math.max(0, quota.bytes() - used));
            user.put("quotaPeriodEnd", quota.periodEnd(now).toString());
        } else {
            user.putNull("quota");
        }
        user.put("exposePorts", limits.exposePorts());
        user.put("created", account.created().toString());
        user.put("updated", account.updated().toString());
        user.put("bytesUp", account.bytesUp());
        user.put("bytesDown", account.bytesDown());
        // Tunnels relaying now, and idle authenticated links apart: a local's warm pool is no traffic.
        user.put("tunnels", live == null ? 0 : live.tunnels());
        user.put("links", live == null ? 0 : live.links());
        return user;
    }

    /** The store's figure: what the gateways have persisted, at most one flush interval behind the live traffic. */
    private long quotaUsed(Account account, Quota quota, Instant now) {
        long[] bytes = guarded(() -> store().traffic(account.name(), quota.periodStart(now)));
        return bytes[0] + bytes[1];
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
