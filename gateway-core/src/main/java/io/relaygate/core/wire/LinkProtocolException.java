package io.relaygate.core.wire;

/** The peer broke the link protocol; the link closes (after an ERROR frame where one can still be sent). */
public final class LinkProtocolException extends Exception {

    private static final long serialVersionUID = 1L;

    private final int errorCode;

    public LinkProtocolException(int errorCode, String message) {
        super(message, null, false, false);
        this.errorCode = errorCode;
    }

    /** {@return the ERROR frame code to send, see {@link Frames}} */
    public int errorCode() {
        return errorCode;
    }
}
