package io.relaygate.httpconnect;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Parses one message head strictly (RFC 9112), for requests from clients and responses from origins alike: CRLF line
 * endings only, no obs-fold, no whitespace before a colon, no control bytes in values, bounded start line, head and
 * field count. Incremental: lines are checked as they complete, so an error is found without waiting for the rest,
 * and bytes already checked are not scanned again. Confined to one connection's loop; {@link #reset} before the next
 * head.
 */
final class HeadParser {

    private final boolean request;
    private final int maxStartLine;
    private final int maxHeadBytes;
    private final int maxFields;
    /** Bytes of the head already parsed, counted from the buffer's position (which stays at the head's start). */
    private int parsed;
    private boolean startLineSeen;
    private HttpHead head = new HttpHead();

    HeadParser(boolean request, int maxStartLine, int maxHeadBytes, int maxFields) {
        this.request = request;
        this.maxStartLine = maxStartLine;
        this.maxHeadBytes = maxHeadBytes;
        this.maxFields = maxFields;
    }

    /** Forgets the head parsed last: the next call starts a new one. */
    void reset() {
        parsed = 0;
        startLineSeen = false;
        head = new HttpHead();
    }

    /** {@return whether part of a head has been parsed, beyond any empty lines before a request line} */
    boolean started() {
        return startLineSeen;
    }

    /**
     * Parses from {@code in}'s position, which stays at the head's start until the head is complete.
     *
     * @return the complete head, {@code in}'s position then just after its empty line; or null when more bytes are
     *         needed
     * @throws HttpException the head is malformed or over a limit (for a response head the status is for the log
     *                       only: its client gets 502)
     */
    HttpHead parse(ByteBuffer in) throws HttpException {
        int start = in.position();
        while (true) {
            int lineStart = start + parsed;
            int lf = indexOf(in, lineStart, in.limit(), (byte) '\n');
            if (lf < 0) {
                checkIncomplete(in, start, lineStart);
                return null;
            }
            int next = lf + 1;
            if (!startLineSeen && next - lineStart > maxStartLine) {
                throw startLineTooLong();
            }
            if (next - start > maxHeadBytes) {
                throw tooLarge();
            }
            if (lf == lineStart || in.get(lf - 1) != '\r') {
                throw HttpException.badRequest("bare LF line ending");
            }
            int end = lf - 1;
            parsed = next - start;
            if (indexOf(in, lineStart, end, (byte) '\r') >= 0) {
                throw HttpException.badRequest("bare CR");
            }
            if (!startLineSeen) {
                if (end > lineStart) {
                    startLineSeen = true;
                    startLine(ascii(in, lineStart, end));
                } else if (!request) {
                    throw HttpException.badRequest("empty status line");
                }
                // RFC 9112 §2.2: empty lines before the request line are ignored
            } else if (end == lineStart) {
                in.position(next);
                HttpHead complete = head;
                reset();
                return complete;
            } else {
                field(in, lineStart, end);
            }
        }
    }

    private void checkIncomplete(ByteBuffer in, int start, int lineStart) throws HttpException {
        if (!startLineSeen && in.limit() - lineStart > maxStartLine) {
            throw startLineTooLong();
        } else if (in.limit() - start > maxHeadBytes) {
            throw tooLarge();
        }
    }

    private HttpException startLineTooLong() {
        return request ? new HttpException(414, "request line longer than " + maxStartLine + " bytes")
                : HttpException.badRequest("status line longer than " + maxStartLine + " bytes");
    }

    private HttpException tooLarge() {
        return new HttpException(431, "head larger than " + maxHeadBytes + " bytes or " + maxFields + " fields");
    }

    private void startLine(String line) throws HttpException {
        if (request) {
            requestLine(line);
        } else {
            statusLine(line);
        }
    }

    /** RFC 9112 §3: method SP request-target SP HTTP-version. */
    private void requestLine(String line) throws HttpException {
        int firstSpace = line.indexOf(' ');
        int secondSpace = firstSpace < 0 ? -1 : line.indexOf(' ', firstSpace + 1);
        if (firstSpace <= 0 || secondSpace < 0 || line.indexOf(' ', secondSpace + 1) >= 0) {
            throw HttpException.badRequest("malformed request line");
        }
        head.method = line.substring(0, firstSpace);
        head.target = line.substring(firstSpace + 1, secondSpace);
        if (!isToken(head.method) || head.target.isEmpty()) {
            throw HttpException.badRequest("malformed request line");
        }
        for (int i = 0; i < head.target.length(); i++) {
            char c = head.target.charAt(i);
            if (c <= 0x20 || c >= 0x7F) {
                throw HttpException.badRequest("invalid character in the request target");
            }
        }
        head.minorVersion = version(line.substring(secondSpace + 1));
    }

    /** RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason-phrase]; a missing last space is tolerated. */
    private void statusLine(String line) throws HttpException {
        if (line.length() < 12 || line.charAt(8) != ' ' || (line.length() > 12 && line.charAt(12) != ' ')) {
            throw HttpException.badRequest("malformed status line");
        }
        head.minorVersion = version(line.substring(0, 8));
        int status = 0;
        for (int i = 9; i < 12; i++) {
            char c = line.charAt(i);
            if (c < '0' || c > '9') {
                throw HttpException.badRequest("malformed status code");
            }
            status = status * 10 + (c - '0');
        }
        if (status < 100) {
            throw HttpException.badRequest("malformed status code");
        }
        head.status = status;
        head.reason = line.length() > 13 ? line.substring(13) : "";
    }

    private static int version(String version) throws HttpException {
        if (version.equals("HTTP/1.1")) {
            return 1;
        }
        if (version.equals("HTTP/1.0")) {
            return 0;
        }
        if (version.length() == 8 && version.startsWith("HTTP/") && Character.isDigit(version.charAt(5))
                && version.charAt(6) == '.' && Character.isDigit(version.charAt(7))) {
            throw new HttpException(505, "only HTTP/1.1 and HTTP/1.0 are served");
        }
        throw HttpException.badRequest("malformed HTTP version");
    }

    /** RFC 9112 §5: field-name ":" OWS field-value OWS, the name a token directly followed by the colon. */
    private void field(ByteBuffer in, int start, int end) throws HttpException {
        byte first = in.get(start);
        if (first == ' ' || first == '\t') {
            throw HttpException.badRequest("obsolete line folding");
        }
        int colon = indexOf(in, start, end, (byte) ':');
        if (colon <= start) {
            throw HttpException.badRequest(colon < 0 ? "header line without a colon" : "empty header name");
        }
        String name = ascii(in, start, colon);
        if (!isToken(name)) {
            throw HttpException.badRequest("invalid header name");   // includes whitespace before the colon
        }
        int valueStart = colon + 1;
        int valueEnd = end;
        while (valueStart < valueEnd && isWhitespace(in.get(valueStart))) {
            valueStart++;
        }
        while (valueEnd > valueStart && isWhitespace(in.get(valueEnd - 1))) {
            valueEnd--;
        }
        for (int i = valueStart; i < valueEnd; i++) {
            int b = in.get(i) & 0xFF;
            if ((b < 0x20 && b != '\t') || b == 0x7F) {
                throw HttpException.badRequest("control character in a header value");
            }
        }
        if (head.fields.size() >= maxFields) {
            throw tooLarge();
        }
        head.fields.add(new HttpHead.Field(name, ascii(in, valueStart, valueEnd)));
    }

    static int indexOf(ByteBuffer in, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (in.get(i) == b) {
                return i;
            }
        }
        return -1;
    }

    static String ascii(ByteBuffer in, int from, int to) {
        byte[] bytes = new byte[to - from];
        in.get(from, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static boolean isWhitespace(byte b) {
        return b == ' ' || b == '\t';
    }

    /** RFC 9110 §5.6.2 token: 1*tchar. */
    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!tchar) {
                return false;
            }
        }
        return true;
    }
}
