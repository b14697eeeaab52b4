package io.relaygate.core.link;

import io.relaygate.core.config.GatewayConfig;

/**
 * How much a peer may send on the streams of one link before this side grants more: each stream starts with
 * {@code initial}; a stream whose reader keeps up while the window, not the path, bounds it has its window doubled,
 * up to {@code max}, while the growth of all of the link's streams together stays within {@code linkGrowth}. What a
 * stream holds when its reader stalls is at most its window, so these three bound the memory a link can make this
 * side hold: {@code streams × initial + linkGrowth}.
 *
 * @param initial    the window a stream starts with, as OPEN and OPEN_RESULT announce it
 * @param max        the largest window one stream grows to; equal to {@code initial} turns growth off
 * @param linkGrowth the bytes by which a link's streams together may grow beyond their initial windows
 */
public record StreamWindows(int initial, int max, long linkGrowth) {

    public StreamWindows {
        if (initial <= 0 || max < initial || linkGrowth < 0) {
            throw new IllegalArgumentException("stream windows need 0 < initial <= max and linkGrowth >= 0, not "
                    + initial + ", " + max + ", " + linkGrowth);
        }
    }

    /** {@return the windows that {@code limits} configure} */
    public static StreamWindows of(GatewayConfig.Limits limits) {
        return new StreamWindows(limits.streamWindow(), limits.streamWindowMax(), limits.linkWindowGrowth());
    }

    /** {@return windows of {@code bytes} that never grow} */
    public static StreamWindows fixed(int bytes) {
        return new StreamWindows(bytes, bytes, 0);
    }
}
