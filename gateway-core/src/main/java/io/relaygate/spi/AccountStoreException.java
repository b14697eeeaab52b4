package io.relaygate.spi;

/** The account store could not be reached or read; the operation may succeed later. */
public class AccountStoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public AccountStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
