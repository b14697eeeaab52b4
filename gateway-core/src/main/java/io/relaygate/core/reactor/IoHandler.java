package io.relaygate.core.reactor;

import java.nio.channels.SelectionKey;

/**
 * What a selection key's attachment does when its channel is ready. Confined to the key's event loop.
 */
public interface IoHandler {

    /**
     * Handles the ready operations of {@code key}.
     *
     * @throws Exception anything; the loop then calls {@link #failed(Throwable)} and carries on with other keys
     */
    void ready(SelectionKey key) throws Exception;

    /** Closes whatever this handler owns after {@link #ready} threw. Must not throw. */
    void failed(Throwable cause);
}
