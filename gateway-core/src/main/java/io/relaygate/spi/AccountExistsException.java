package io.relaygate.spi;

/** An account with that name exists already. */
public class AccountExistsException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public AccountExistsException(String name) {
        super("user " + name + " exists already");
    }
}
