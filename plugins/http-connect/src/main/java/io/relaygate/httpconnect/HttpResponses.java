package io.relaygate.httpconnect;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The responses a CONNECT proxy sends. */
final class HttpResponses {

    /** RFC 9110 §9.3.6: a 2xx response to CONNECT carries no Content-Length or Transfer-Encoding. */
    static final byte[] ESTABLISHED = "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private HttpResponses() {
    }

    static String reasonPhrase(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 405 -> "Method Not Allowed";
            case 407 -> "Proxy Authentication Required";
            case 414 -> "URI Too Long";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 504 -> "Gateway Timeout";
            case 505 -> "HTTP Version Not Supported";
            default -> "Error";
        };
    }

    static ByteBuffer established() {
        return ByteBuffer.wrap(ESTABLISHED);
    }

    /** An error response with a one-line plain-text body; the connection closes after it. */
    static ByteBuffer error(int status, String reason, String body, String extraHeader) {
        byte[] content = (body + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason + "\r\n"
                + (extraHeader == null ? "" : extraHeader + "\r\n")
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + content.length + "\r\n"
                + "Connection: close\r\n\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(headBytes.length + content.length).put(headBytes).put(content).flip();
    }

    /** {@return the reason a 429 gives for one of the user's own limits} */
    static String userLimit(io.relaygate.spi.TunnelOutcome outcome) {
        return outcome == io.relaygate.spi.TunnelOutcome.QUOTA_REACHED
                ? "the account's traffic quota for this period is used up"
                : "the account holds as many connections as it may (max-connections)";
    }
}
