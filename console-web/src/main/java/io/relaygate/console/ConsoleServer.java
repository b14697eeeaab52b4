package io.relaygate.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UnauthorizedResponse;
import io.relaygate.spi.AdminApi;
import io.relaygate.spi.ConsoleFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console: Javalin serving the REST API, the stats WebSocket, {@code /metrics}, the OpenAPI description and
 * the page. Every route but the page, its assets and the OpenAPI description needs the admin token (bearer); the
 * WebSocket also takes a one-time ticket and checks the Origin before the upgrade. No cookies, no CORS.
 */
final class ConsoleServer implements ConsoleFactory.Console {

    private static final Logger log = LoggerFactory.getLogger(ConsoleServer.class);
    private static final String WEB = "/io/relaygate/console/web/";
    private static final Map<String, String> ASSETS = Map.of(
            "/", "index.html", "/app.js", "app.js", "/style.css", "style.css");

    private static final ObjectMapper ERRORS = new ObjectMapper();

    private final Javalin app;
    private final StatsHub stats;
    private final InetSocketAddress bound;

    private ConsoleServer(Javalin app, StatsHub stats, InetSocketAddress bind) {
        this.app = app;
        this.stats = stats;
        this.bound = new InetSocketAddress(bind.getAddress(), app.port());
    }

    static ConsoleServer start(ConsoleSettings settings, AdminApi admin, InetSocketAddress bind) {
        AdminToken token = AdminToken.load(settings.token(), admin.context().dataDir());
        ObjectMapper json = Requests.strictMapper();
        StatsHub stats = new StatsHub(admin, json, settings.wsMaxQueued());
        UsersApi users = new UsersApi(admin, json);
        TunnelsApi tunnels = new TunnelsApi(admin, json);
        ProxyApi proxy = new ProxyApi(admin, json, stats);
        byte[] openApi = resource("openapi.json");
        Map<String, byte[]> assets = new java.util.HashMap<>();
        ASSETS.forEach((path, file) -> assets.put(path, resource(file)));
        Javalin app;
        try {
            app = Javalin.create(config -> {
                config.startup.showJavalinBanner = false;
                config.startup.showOldJavalinVersionWarning = false;
                config.jetty.host = bind.getAddress().getHostAddress();
                config.jetty.port = bind.getPort();
                QueuedThreadPool threads = new QueuedThreadPool(16, 2);
                threads.setName("relaygate-console");
                threads.setDaemon(true);
                config.jetty.threadPool = threads;
                config.http.maxRequestSize = settings.maxBodySize();
                config.http.defaultContentType = "application/json";

                config.routes.before("/api/*", ctx -> {
                    if (!ctx.path().equals("/api/openapi.json")) {
                        requireToken(ctx, token);
                    }
                    // Refuse an announced oversize body before reading any of it, rather than after the limit.
                    if (ctx.contentLength() > settings.maxBodySize()) {
                        throw new io.javalin.http.HttpResponseException(413, "body: " + ctx.contentLength()
                                + " bytes (expected: at most " + settings.maxBodySize() + ")");
                    }
                });
                config.routes.before("/metrics", ctx -> requireToken(ctx, token));
                ASSETS.keySet().forEach(path -> config.routes.get(path, ctx -> serve(ctx, path, assets.get(path))));
                config.routes.get("/api/openapi.json", ctx -> ctx.contentType("application/json").result(openApi));

                config.routes.get("/api/users", users::list);
                config.routes.post("/api/users", users::create);
                config.routes.get("/api/users/{name}", users::get);
                config.routes.put("/api/users/{name}", users::update);
                config.routes.delete("/api/users/{name}", users::delete);
                config.routes.get("/api/status", proxy::status);
                config.routes.get("/api/tunnels", tunnels::list);
                config.routes.delete("/api/tunnels/{user}/{name}", tunnels::close);
                config.routes.post("/api/proxy/start", proxy::start);
                config.routes.post("/api/proxy/stop", proxy::stop);
                config.routes.put("/api/proxy/settings", proxy::settings);
                config.routes.post("/api/ws-ticket", ctx -> {
                    ObjectNode answer = json.createObjectNode();
                    answer.put("ticket", stats.newTicket());
                    answer.put("expiresInSeconds", 30);
                    ctx.status(201).contentType("application/json").result(answer.toString());
                });
                config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                        .result(Metrics.render(admin.snapshot(), admin.tunnels())));

                config.routes.wsBeforeUpgrade("/ws/stats", ctx -> {
                    if (!originAllowed(ctx, settings)) {
                        throw new ForbiddenResponse("origin not allowed");
                    }
                    if (!token.authorizes(ctx.header("Authorization")) && !stats.redeem(ctx.queryParam("ticket"))) {
                        throw new UnauthorizedResponse("a bearer token or a ticket from POST /api/ws-ticket");
                    }
                });
                config.routes.ws("/ws/stats", ws -> {
                    ws.onConnect(ctx -> stats.joined(ctx.session));
                    ws.onClose(ctx -> stats.left(ctx.session));
                    ws.onError(ctx -> stats.left(ctx.session));
                });

                config.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(),
                        e.getMessage()));
                config.routes.exception(Exception.class, (e, ctx) -> {
                    log.warn("console: {} {} failed", ctx.method(), ctx.path(), e);
                    error(ctx, 500, "internal error");
                });
                config.routes.error(404, ctx -> {
                    if (ctx.result() == null || ctx.result().isEmpty()) {
                        error(ctx, 404, "not found");
                    }
                });
            }).start();
        } catch (RuntimeException e) {
            stats.close();
            Throwable cause = e;
            while (cause.getCause() != null && !(cause instanceof IOException)) {
                cause = cause.getCause();
            }
            throw new UncheckedIOException(cause instanceof IOException io ? io
                    : new IOException(e.getMessage(), e));
        }
        ConsoleServer server = new ConsoleServer(app, stats, bind);
        log.info("web console on http://{}", hostPort(server.address()));
        return server;
    }

    private static void requireToken(Context ctx, AdminToken token) {
        if (!token.authorizes(ctx.header("Authorization"))) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"relaygate\"");
            throw new UnauthorizedResponse("missing or wrong admin token (expected: Authorization: Bearer TOKEN)");
        }
    }

    /** Same origin as the page that the console served, or one configured; browsers always send Origin. */
    static boolean originAllowed(Context ctx, ConsoleSettings settings) {
        String origin = ctx.header("Origin");
        String host = ctx.header("Host");
        if (origin == null || host == null) {
            return false;
        }
        String normalised = origin.trim().toLowerCase(Locale.ROOT);
        if (settings.allowedOrigins().contains(normalised)) {
            return true;
        }
        try {
            URI uri = URI.create(normalised);
            return "http".equals(uri.getScheme()) && uri.getRawAuthority() != null
                    && uri.getRawAuthority().equals(host.trim().toLowerCase(Locale.ROOT))
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static void error(Context ctx, int status, String message) {
        ObjectNode body = ERRORS.createObjectNode();
        body.put("error", message == null || message.isEmpty() ? "error" : message);
        ctx.status(status).contentType("application/json").result(body.toString());
    }

    private static void serve(Context ctx, String path, byte[] body) {
        String type = path.endsWith(".js") ? "text/javascript; charset=utf-8"
                : path.endsWith(".css") ? "text/css; charset=utf-8" : "text/html; charset=utf-8";
        ctx.header("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:");
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Cache-Control", "no-cache");
        ctx.contentType(type).result(body);
    }

    private static byte[] resource(String name) {
        try (InputStream in = ConsoleServer.class.getResourceAsStream(WEB + name)) {
            if (in == null) {
                throw new UncheckedIOException(new IOException("missing console resource " + name));
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String hostPort(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    @Override
    public InetSocketAddress address() {
        return bound;
    }

    @Override
    public void close() {
        stats.close();
        try {
            app.stop();
        } catch (RuntimeException e) {
            log.warn("stopping the web console failed: {}", e.toString());
        }
    }
}
