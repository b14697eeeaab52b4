package io.relaygate.httpconnect;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The responses a CONNECT proxy sends. */
final class HttpResponses {

    /** RFC 9110 §9.3.6: a 2xx response to CONNECT carries no Content-Length or Transfer-Encoding. */
    static final byte[] ESTABLISHED = "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private HttpResponses() {
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
}
