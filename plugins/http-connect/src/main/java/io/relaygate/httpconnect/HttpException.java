package io.relaygate.httpconnect;

/** A message the proxy refuses, with the status it answers and a one-line reason for the client and the log. */
final class HttpException extends Exception {

    private final int status;

    HttpException(int status, String reason) {
        super(reason, null, false, false);
        this.status = status;
    }

    static HttpException badRequest(String reason) {
        return new HttpException(400, reason);
    }

    int status() {
        return status;
    }

    /** {@return the reason phrase of this exception's status} */
    String reasonPhrase() {
        return HttpResponses.reasonPhrase(status);
    }
}
