package io.relaygate.core.plugin;

/** A plugin could not be loaded; the message is one line that names the jar or directory. */
public final class PluginException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PluginException(String message, Throwable cause) {
        super(message, cause);
    }
}
