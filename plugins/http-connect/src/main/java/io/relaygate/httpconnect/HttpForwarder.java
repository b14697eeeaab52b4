package io.relaygate.httpconnect;

import io.relaygate.spi.ByteStream;
import io.relaygate.spi.ForwardingSession;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * A plain HTTP/1.1 forward proxy connection (RFC 9112, RFC 9110 §7.6): absolute-form requests of any method from one
 * client, each forwarded in origin-form to its origin, one exchange at a time, bodies streamed both ways and never
 * buffered whole.
 * <p>
 * The client connection is kept alive as HTTP allows; the upstream is kept for the next request to the same origin
 * and replaced when the origin changes. Hop-by-hop fields are removed and {@code Via} is added both ways; message
 * framing is checked strictly on both sides (a request that could be read two ways gets 400), and a response whose
 * framing the client cannot take (chunked to an HTTP/1.0 client) is unchunked and delimited by the close. A
 * {@code 101} to an {@code Upgrade} request turns the connection into a tunnel. A request that went out on a reused
 * connection the origin had just closed is sent again once on a new one if it had no body.
 * <p>
 * Each direction holds what it read in one buffer and writes body bytes straight from it; while a write is
 * incomplete that direction stops reading (backpressure). Confined to the connection's event loop.
 */
final class HttpForwarder implements io.relaygate.spi.Forwarder {

    /** Bytes read from the origin per buffer; a response head must fit in it with room to spare. */
    private static final int UPSTREAM_BUFFER = 64 * 1024;
    private static final int MAX_STATUS_LINE = 8 * 1024;
    private static final int MAX_RESPONSE_HEAD = 32 * 1024;
    private static final int MAX_RESPONSE_FIELDS = 256;

    /** Removed from forwarded messages (RFC 9110 §7.6.1, and the proxy's own fields). */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "proxy-connection", "keep-alive",
            "proxy-authorization", "proxy-authenticate", "te", "trailer", "upgrade", "transfer-encoding", "host");

    private enum Request { HEAD, CONNECTING, BODY, SENT, TUNNEL }

    private enum Response { IDLE, HEAD, BODY, TUNNEL }

    private final HttpConnectConfig config;
    private final HeadParser requestParser;
    private final HeadParser responseParser = new HeadParser(false, MAX_STATUS_LINE, MAX_RESPONSE_HEAD,
            MAX_RESPONSE_FIELDS);
    private final HttpHead firstRequest;

    private ForwardingSession session;
    private ByteStream client;
    /** From the client, in read mode: the current request's unsent bytes, then whatever the client sent after. */
    private ByteBuffer clientIn;
    private boolean clientEof;

    private ByteStream upstream;
    private ForwardTarget upstreamTarget;
    private ForwardingSession.Attempt dial;
    /** From the origin, in read mode. */
    private final ByteBuffer upstreamIn = ByteBuffer.allocate(UPSTREAM_BUFFER).flip();
    private boolean upstreamEof;
    private boolean upstreamOutputShut;
    /** Whether the current request went out on a connection that had served an earlier one. */
    private boolean upstreamReused;

    private Request request = Request.HEAD;
    private ForwardTarget target;
    private BodyFramer requestBody;
    private byte[] requestHead;
    private ByteBuffer toUpstream;
    /** Request body bytes at {@link #clientIn}'s front that may go to the origin. */
    private int upPass;
    private boolean retried;
    private boolean headMethod;
    private boolean upgradeRequest;
    private boolean clientHttp11;
    private boolean clientKeepAlive;

    private Response response = Response.IDLE;
    private BodyFramer responseBody;
    private ByteBuffer toClient;
    /** Response bytes at {@link #upstreamIn}'s front: passed to the client when {@link #downKeep}, else dropped. */
    private int downPass;
    private boolean downKeep;
    private boolean clientOutputShut;
    /** A byte of the current response went to the client: an error can no longer be answered with a status. */
    private boolean responseStarted;
    private boolean upstreamKeepAlive;
    private boolean closeAfterResponse;
    /** The outcome to close with once {@link #toClient} is written, or null. */
    private String closing;
    private boolean finished;
    private boolean running;
    private boolean runAgain;

    HttpForwarder(HttpConnectConfig config, HttpHead firstRequest) {
        this.config = config;
        this.requestParser = new HeadParser(true, config.maxRequestLine(), config.maxHeaderBytes(),
                config.maxHeaderFields());
        this.firstRequest = firstRequest;
    }

    @Override
    public void start(ForwardingSession session, ByteBuffer buffered) {
        this.session = session;
        this.client = session.client();
        this.clientIn = ByteBuffer.allocate(Math.max(config.maxHeaderBytes() + 4096, buffered.remaining()));
        clientIn.put(buffered).flip();
        client.handler(new ClientEvents());
        try {
            beginRequest(firstRequest);
        } catch (HttpException e) {
            refuse(e);
        }
        run();
    }

    @Override
    public void closed(String reason) {
        finished = true;
    }

    // ---- the exchange ----

    private void beginRequest(HttpHead head) throws HttpException {
        ForwardTarget next = ForwardTarget.parse(head.method, head.target);
        clientHttp11 = head.isHttp11();
        requestBody = requestFraming(head);
        headMethod = head.method.equals("HEAD");
        clientKeepAlive = clientHttp11 ? !head.connectionHas("close") : head.connectionHas("keep-alive");
        upgradeRequest = clientHttp11 && head.connectionHas("upgrade") && head.first("upgrade") != null;
        requestHead = requestHead(head, next);
        retried = false;
        responseStarted = false;
        closeAfterResponse = false;
        if (target == null) {
            session.destination(next.destination().toString());
        }
        target = next;
        if (upstream != null && (upstreamEof || !next.destination().equals(upstreamTarget.destination()))) {
            closeUpstream();
        }
        if (upstream == null) {
            connect();
        } else {
            upstreamReused = true;
            sendHead();
        }
    }

    /** RFC 9112 §6.1-6.3 for a request: chunked last, or one valid length, never both; otherwise no body. */
    private BodyFramer requestFraming(HttpHead head) throws HttpException {
        List<String> codings = head.tokens("transfer-encoding");
        int lengths = head.count("content-length");
        if (head.count("transfer-encoding") > 0) {
            if (lengths > 0) {
                throw HttpException.badRequest("Content-Length together with Transfer-Encoding");
            }
            if (!clientHttp11) {
                throw HttpException.badRequest("Transfer-Encoding in an HTTP/1.0 request");
            }
            if (codings.isEmpty() || !codings.get(codings.size() - 1).equals("chunked")) {
                throw HttpException.badRequest("Transfer-Encoding without chunked last");
            }
            return BodyFramer.chunked(false);
        }
        return lengths == 0 ? BodyFramer.NONE : BodyFramer.fixed(contentLength(head));
    }

    /** {@return the one length the {@code Content-Length} fields agree on} */
    private static long contentLength(HttpHead head) throws HttpException {
        long length = -1;
        for (HttpHead.Field f : head.fields) {
            if (!f.is("content-length")) {
                continue;
            }
            for (String element : f.value().split(",", -1)) {
                String value = element.trim();
                if (value.isEmpty() || value.length() > 18 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    throw HttpException.badRequest("malformed Content-Length");
                }
                long parsed = Long.parseLong(value);
                if (length >= 0 && parsed != length) {
                    throw HttpException.badRequest("differing Content-Length values");
                }
                length = parsed;
            }
        }
        return length;
    }

    private byte[] requestHead(HttpHead head, ForwardTarget next) {
        StringBuilder out = new StringBuilder(256);
        out.append(head.method).append(' ').append(next.originForm()).append(" HTTP/1.1\r\n");
        out.append("Host: ").append(next.authority()).append("\r\n");
        List<String> named = head.tokens("connection");
        for (HttpHead.Field f : head.fields) {
            String name = f.name().toLowerCase(java.util.Locale.ROOT);
            if (name.equals("transfer-encoding")
                    || !HOP_BY_HOP.contains(name) && !named.contains(name)) {
                out.append(f.name()).append(": ").append(f.value()).append("\r\n");
            }
        }
        if (upgradeRequest) {
            out.append("Connection: upgrade\r\nUpgrade: ").append(head.first("upgrade")).append("\r\n");
        }
        if (!config.via().isEmpty()) {
            out.append("Via: ").append(clientHttp11 ? "1.1 " : "1.0 ").append(config.via()).append("\r\n");
        }
        if (config.xForwardedFor()) {
            out.append("X-Forwarded-For: ").append(session.clientAddress().getAddress().getHostAddress())
                    .append("\r\n");
        }
        return out.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private void connect() {
        request = Request.CONNECTING;
        ForwardTarget connecting = target;
        dial = session.connect(connecting.destination(), new ForwardingSession.UpstreamCallback() {
            @Override
            public void connected(ByteStream stream) {
                dial = null;
                if (finished) {
                    stream.close();
                    return;
                }
                upstream = stream;
                upstreamTarget = connecting;
                upstreamReused = false;
                stream.handler(new UpstreamEvents(stream));
                sendHead();
                run();
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason) {
                dial = null;
                if (!finished) {
                    respondError(status(outcome), reason(outcome, reason));
                    run();
                }
            }
        });
    }

    private void sendHead() {
        toUpstream = ByteBuffer.wrap(requestHead);
        request = Request.BODY;
        response = Response.HEAD;
    }

    private static int status(TunnelOutcome outcome) {
        return switch (outcome) {
            case NOT_ALLOWED -> 403;
            case CONNECTION_CAP_REACHED, QUOTA_REACHED -> 429;
            case TIMED_OUT -> 504;
            default -> 502;
        };
    }

    private static String reason(TunnelOutcome outcome, String detail) {
        return switch (outcome) {
            case NOT_ALLOWED -> "destination not allowed";
            case CONNECTION_CAP_REACHED, QUOTA_REACHED -> HttpResponses.userLimit(outcome);
            case TIMED_OUT -> "connecting to the origin timed out";
            case HOST_UNREACHABLE -> "host unreachable or unknown";
            case NETWORK_UNREACHABLE -> "network unreachable";
            case CONNECTION_REFUSED -> "connection refused";
            case LINK_AUTH_FAILED -> "the remote gateway refused this gateway's credentials";
            default -> detail == null || detail.isEmpty() ? "the origin could not be reached" : oneLine(detail);
        };
    }

    private static String oneLine(String text) {
        String line = text.replaceAll("[\\r\\n\\p{Cntrl}]", " ");
        return line.length() > 200 ? line.substring(0, 200) : line;
    }

    /** A final response head arrived: decide its framing, then pass it on. */
    private void responseHead(HttpHead head) throws HttpException {
        if (head.status < 200) {
            if (head.status == 101) {
                if (!upgradeRequest) {
                    throw HttpException.badRequest("101 to a request that asked for no upgrade");
                }
                toClient = ByteBuffer.wrap(responseHeadBytes(head, null, true));
                responseStarted = true;
                request = Request.TUNNEL;
                response = Response.TUNNEL;
                upPass = 0;
            } else if (clientHttp11) {
                toClient = ByteBuffer.wrap(responseHeadBytes(head, null, false));  // 100 Continue, 103 Early Hints
            }
            return;
        }
        // RFC 9112 §6.3, in its order: no body; Transfer-Encoding (chunked last, else read until close), which
        // overrides Content-Length; Content-Length; else read until close.
        List<String> codings = head.tokens("transfer-encoding");
        boolean encoded = head.count("transfer-encoding") > 0;
        boolean chunked = encoded && !codings.isEmpty() && codings.get(codings.size() - 1).equals("chunked");
        boolean hasLength = head.count("content-length") > 0;
        boolean noBody = headMethod || head.status == 204 || head.status == 304;
        String framing;     // the framing field passed on, or null
        boolean untilClose; // the client learns the body's end by the close
        if (noBody) {
            responseBody = BodyFramer.NONE;
            framing = hasLength && !encoded ? lengthField(head) : null;
            untilClose = false;
        } else if (encoded) {
            responseBody = chunked ? BodyFramer.chunked(!clientHttp11) : BodyFramer.untilClose();
            framing = clientHttp11 ? "Transfer-Encoding: " + String.join(", ", codings) : null;
            untilClose = !chunked || !clientHttp11;
        } else if (hasLength) {
            responseBody = BodyFramer.fixed(contentLength(head));
            framing = lengthField(head);
            untilClose = false;
        } else {
            responseBody = BodyFramer.untilClose();
            framing = null;
            untilClose = true;
        }
        boolean originKeepsAlive = head.isHttp11() ? !head.connectionHas("close") : head.connectionHas("keep-alive");
        upstreamKeepAlive = originKeepsAlive && !(encoded && hasLength) && (noBody || chunked || !encoded && hasLength);
        closeAfterResponse = !clientKeepAlive || untilClose || clientEof;
        toClient = ByteBuffer.wrap(responseHeadBytes(head, framing, false));
        responseStarted = true;
        response = Response.BODY;
    }

    private static String lengthField(HttpHead head) throws HttpException {
        return head.count("content-length") > 0 ? "Content-Length: " + contentLength(head) : null;
    }

    private byte[] responseHeadBytes(HttpHead head, String framing, boolean switching) {
        StringBuilder out = new StringBuilder(256);
        out.append("HTTP/1.1 ").append(head.status).append(' ').append(head.reason).append("\r\n");
        List<String> named = head.tokens("connection");
        for (HttpHead.Field f : head.fields) {
            String name = f.name().toLowerCase(java.util.Locale.ROOT);
            if (!HOP_BY_HOP.contains(name) && !named.contains(name) && !name.equals("content-length")) {
                out.append(f.name()).append(": ").append(f.value()).append("\r\n");
            }
        }
        if (framing != null) {
            out.append(framing).append("\r\n");
        }
        if (switching) {
            out.append("Connection: upgrade\r\nUpgrade: ").append(head.first("upgrade")).append("\r\n");
        } else if (head.status >= 200) {
            if (closeAfterResponse) {
                out.append("Connection: close\r\n");
            } else if (!clientHttp11) {
                out.append("Connection: keep-alive\r\n");
            }
        }
        if (!config.via().isEmpty()) {
            out.append("Via: ").append(head.isHttp11() ? "1.1 " : "1.0 ").append(config.via()).append("\r\n");
        }
        return out.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private void responseComplete() {
        boolean requestComplete = request == Request.SENT;
        if (!upstreamKeepAlive || !requestComplete) {
            closeUpstream();
        }
        response = Response.IDLE;
        if (closeAfterResponse || !requestComplete || clientEof) {
            finish("closed", false);
            return;
        }
        request = Request.HEAD;
        responseStarted = false;
    }

    // ---- moving bytes ----

    /** Makes what progress both directions can, then sets the streams' interest. Reentrant calls fold in. */
    private void run() {
        if (running) {
            runAgain = true;
            return;
        }
        running = true;
        try {
            do {
                runAgain = false;
                boolean progress = true;
                while (progress && !finished) {
                    progress = stepUp();
                    progress |= !finished && stepDown();
                }
            } while (runAgain && !finished);
            if (!finished) {
                interest();
            }
        } finally {
            running = false;
        }
    }

    private boolean stepUp() {
        try {
            return switch (request) {
                case HEAD -> nextRequest();
                case CONNECTING, SENT -> false;
                case BODY -> requestBody();
                case TUNNEL -> tunnelUp();
            };
        } catch (HttpException e) {
            refuse(e);
            return true;
        } catch (ClientBroke e) {
            return true;
        }
    }

    private boolean nextRequest() throws HttpException {
        if (closing != null) {
            return false;
        }
        HttpHead head = requestParser.parse(clientIn);
        if (head == null) {
            return readClient();
        }
        beginRequest(head);
        return true;
    }

    private boolean requestBody() throws HttpException {
        if (upstream == null) {
            return false;
        }
        if (!flushUp()) {
            return false;
        }
        if (requestBody.done()) {
            request = Request.SENT;
            return true;
        }
        int n = requestBody.next(clientIn);
        if (n > 0) {
            upPass = n;
            return true;
        }
        if (clientEof) {
            abort("client closed during the request body");
            return true;
        }
        return readClient();
    }

    private boolean tunnelUp() {
        if (!flushUp()) {
            return false;
        }
        if (clientIn.hasRemaining()) {
            upPass = clientIn.remaining();
            return true;
        }
        if (clientEof) {
            if (!upstreamOutputShut) {
                upstreamOutputShut = true;
                try {
                    upstream.shutdownOutput();
                } catch (IOException e) {
                    abort("upstream broke");
                    return true;
                }
                endTunnelIfDone();
                return true;
            }
            return false;
        }
        return readClient();
    }

    /** Writes the pending request head and body bytes; {@return whether nothing is left to write} */
    private boolean flushUp() {
        try {
            if (toUpstream != null) {
                upstream.write(toUpstream);
                if (toUpstream.hasRemaining()) {
                    return false;
                }
                toUpstream = null;
            }
            if (upPass > 0) {
                ByteBuffer slice = clientIn.duplicate();
                slice.limit(slice.position() + upPass);
                int written = upstream.write(slice);
                clientIn.position(clientIn.position() + written);
                upPass -= written;
                return upPass == 0;
            }
            return true;
        } catch (IOException e) {
            upstreamBroke(e);
            return false;
        }
    }

    /** {@return whether bytes or the end of stream arrived} */
    private boolean readClient() {
        if (clientEof || clientIn.limit() == clientIn.capacity() && clientIn.position() == 0) {
            return false;
        }
        int n;
        clientIn.compact();
        try {
            n = client.read(clientIn);
        } catch (IOException e) {
            clientIn.flip();
            abort("client broke");
            throw new ClientBroke();
        }
        clientIn.flip();
        if (n < 0) {
            clientEof = true;
            if (request == Request.HEAD) {
                // Between requests: the client is done. Mid-head: it gave up.
                finish(requestParser.started() || clientIn.hasRemaining() ? "client closed mid-request" : "closed",
                        false);
            }
            return true;
        }
        return n > 0;
    }

    private boolean stepDown() {
        try {
            if (!flushDown()) {
                return false;
            }
            if (closing != null) {
                finish(closing, false);
                return true;
            }
            return switch (response) {
                case IDLE -> watchIdleUpstream();
                case HEAD -> nextResponseHead();
                case BODY -> responseBody();
                case TUNNEL -> tunnelDown();
            };
        } catch (HttpException e) {
            upstreamBroke(e);
            return true;
        } catch (ClientBroke e) {
            return true;
        }
    }

    /** Writes the pending response head and body bytes; {@return whether nothing is left to write} */
    private boolean flushDown() {
        try {
            if (toClient != null) {
                client.write(toClient);
                if (toClient.hasRemaining()) {
                    return false;
                }
                toClient = null;
            }
            if (downPass > 0) {
                if (downKeep) {
                    ByteBuffer slice = upstreamIn.duplicate();
                    slice.limit(slice.position() + downPass);
                    int written = client.write(slice);
                    upstreamIn.position(upstreamIn.position() + written);
                    downPass -= written;
                } else {
                    upstreamIn.position(upstreamIn.position() + downPass);
                    downPass = 0;
                }
            }
            return downPass == 0;
        } catch (IOException e) {
            abort("client broke");
            throw new ClientBroke();
        }
    }

    /** Between exchanges the origin may close its kept connection: notice it, and drop anything it sends. */
    private boolean watchIdleUpstream() {
        if (upstream == null) {
            return false;
        }
        upstreamIn.clear().flip();
        if (readUpstream() && (upstreamEof || upstreamIn.hasRemaining())) {
            closeUpstream();
            return true;
        }
        return false;
    }

    private boolean nextResponseHead() throws HttpException {
        if (upstream == null) {
            return false;
        }
        HttpHead head = responseParser.parse(upstreamIn);
        if (head != null) {
            responseHead(head);
            return true;
        }
        if (upstreamEof) {
            upstreamBroke(new IOException("the origin closed the connection without a response"));
            return true;
        }
        return readUpstream();
    }

    private boolean responseBody() throws HttpException {
        if (responseBody.done()) {
            responseComplete();
            return true;
        }
        int n = responseBody.next(upstreamIn);
        if (n > 0) {
            downPass = n;
            downKeep = responseBody.keep;
            return true;
        }
        if (upstreamEof) {
            if (responseBody.endOfStream()) {
                responseComplete();
            } else {
                abort("the origin closed the connection mid-response");
            }
            return true;
        }
        return readUpstream();
    }

    private boolean tunnelDown() {
        if (upstreamIn.hasRemaining()) {
            downPass = upstreamIn.remaining();
            downKeep = true;
            return true;
        }
        if (upstreamEof) {
            if (!clientOutputShut) {
                clientOutputShut = true;
                try {
                    client.shutdownOutput();
                } catch (IOException e) {
                    abort("client broke");
                    return true;
                }
                endTunnelIfDone();
                return true;
            }
            return false;
        }
        return readUpstream();
    }

    private void endTunnelIfDone() {
        if (clientOutputShut && upstreamOutputShut) {
            finish("closed", false);
        }
    }

    /** {@return whether bytes or the end of stream arrived} */
    private boolean readUpstream() {
        if (upstreamEof || upstreamIn.limit() == upstreamIn.capacity() && upstreamIn.position() == 0) {
            return false;
        }
        upstreamIn.compact();
        int n;
        try {
            n = upstream.read(upstreamIn);
        } catch (IOException e) {
            upstreamIn.flip();
            upstreamBroke(e);
            return true;
        }
        upstreamIn.flip();
        if (n < 0) {
            upstreamEof = true;
            return true;
        }
        return n > 0;
    }

    private void interest() {
        boolean readClient = !clientEof && closing == null && (request == Request.HEAD
                || request == Request.BODY && upstream != null && upPass == 0 && toUpstream == null
                || request == Request.TUNNEL && upPass == 0);
        client.interest(readClient, toClient != null || downPass > 0);
        if (upstream != null) {
            boolean readUpstream = !upstreamEof && downPass == 0 && toClient == null && closing == null;
            upstream.interest(readUpstream, toUpstream != null || upPass > 0);
        }
    }

    // ---- failures and the end ----

    /** The client's request is refused: its status if nothing of a response was sent, else the connection breaks. */
    private void refuse(HttpException e) {
        if (request == Request.HEAD || request == Request.CONNECTING || !responseStarted && response != Response.BODY) {
            respondError(e.status(), e.getMessage());
        } else {
            abort("bad request body: " + e.getMessage());
        }
    }

    /** The origin's side broke or sent what cannot be forwarded. */
    private void upstreamBroke(Exception cause) {
        if (finished) {
            return;
        }
        if (response == Response.IDLE) {
            closeUpstream();    // a kept connection went away between exchanges: nothing was lost
            return;
        }
        boolean noBody = requestBody == BodyFramer.NONE;
        if (response == Response.HEAD && !responseStarted && upstreamReused && noBody && !retried) {
            retried = true;     // the origin closed its kept connection as the request went out: send it again
            closeUpstream();
            connect();
            return;
        }
        if (!responseStarted) {
            closeUpstream();
            String detail = cause instanceof HttpException ? "the origin sent a malformed response: "
                    + cause.getMessage() : cause.getMessage() == null ? "the origin broke the connection"
                    : oneLine(cause.getMessage());
            respondError(502, detail);
        } else {
            abort("the origin broke the connection mid-response");
        }
    }

    /** Answers with an error status and closes once it is written. */
    private void respondError(int status, String reason) {
        if (responseStarted) {
            abort(reason);
            return;
        }
        closeUpstream();
        if (dial != null) {
            dial.cancel();
            dial = null;
        }
        toClient = HttpResponses.error(status, HttpResponses.reasonPhrase(status), reason, null);
        downPass = 0;
        upPass = 0;
        toUpstream = null;
        request = Request.SENT;
        response = Response.IDLE;
        closing = status + " " + reason;
    }

    private void closeUpstream() {
        if (upstream != null) {
            upstream.close();
            upstream = null;
            upstreamTarget = null;
        }
        upstreamIn.clear().flip();
        upstreamEof = false;
        downPass = 0;
        responseParser.reset();
    }

    private void abort(String reason) {
        finish(reason, true);
    }

    private void finish(String outcome, boolean broken) {
        if (!finished) {
            finished = true;
            if (dial != null) {
                dial.cancel();
                dial = null;
            }
            session.close(outcome, broken);
        }
    }

    /** Unwinds a step after the client's connection broke and the forwarder closed. */
    private static final class ClientBroke extends RuntimeException {
        ClientBroke() {
            super(null, null, false, false);
        }
    }

    private final class ClientEvents implements ByteStream.Handler {
        @Override
        public void readable() {
            run();
        }

        @Override
        public void writable() {
            run();
        }

        @Override
        public void failed(Throwable cause) {
            abort("client broke");
        }
    }

    /** Events of one upstream; those of an upstream already replaced are ignored. */
    private final class UpstreamEvents implements ByteStream.Handler {
        private final ByteStream stream;

        UpstreamEvents(ByteStream stream) {
            this.stream = stream;
        }

        @Override
        public void readable() {
            if (stream == upstream) {
                run();
            }
        }

        @Override
        public void writable() {
            if (stream == upstream) {
                run();
            }
        }

        @Override
        public void failed(Throwable cause) {
            if (stream == upstream && !finished) {
                upstreamBroke(cause instanceof Exception e ? e : new IOException(cause));
                run();
            }
        }
    }
}
