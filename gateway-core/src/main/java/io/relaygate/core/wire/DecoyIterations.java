package io.relaygate.core.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The iteration count a SERVER_CHALLENGE shows for a name without an enabled account. Accounts keep the count they
 * were created with, so a fixed decoy (the configured default) would tell old accounts from unknown names after the
 * default changes. Instead each name gets a count drawn from the real accounts' counts, weighted by how many accounts
 * have each, by an HMAC of the server secret and the name: the same name always gets the same count, and the counts
 * unknown names show follow the same distribution as those of real ones.
 * <p>
 * Thread-safe. {@link #forName} may refresh the distribution from the store (blocking): call it off the event loop.
 */
public final class DecoyIterations {

    private record Distribution(int[] counts, long[] cumulative) {
        long total() {
            return cumulative.length == 0 ? 0 : cumulative[cumulative.length - 1];
        }
    }

    private final byte[] secret;
    private final int fallback;
    private final Supplier<Map<Integer, Long>> source;
    private final AtomicBoolean stale = new AtomicBoolean(true);
    private volatile Distribution distribution = new Distribution(new int[0], new long[0]);

    /**
     * @param secret   the server secret the fake salts derive from
     * @param fallback the count shown while no account exists: the one new accounts get
     * @param source   the number of accounts per iteration count (blocking)
     */
    public DecoyIterations(byte[] secret, int fallback, Supplier<Map<Integer, Long>> source) {
        this.secret = secret.clone();
        this.fallback = fallback;
        this.source = source;
    }

    /** Marks the distribution out of date: an account was created, deleted or had its password changed. */
    public void accountsChanged() {
        stale.set(true);
    }

    /** {@return the decoy iteration count for {@code name}; refreshes the distribution first if it is stale} */
    public int forName(byte[] name) {
        if (stale.compareAndSet(true, false)) {
            try {
                distribution = of(source.get());
            } catch (RuntimeException e) {
                stale.set(true);
                throw e;
            }
        }
        Distribution current = distribution;
        long total = current.total();
        if (total == 0) {
            return fallback;
        }
        byte[] mac = Scram.hmac(secret, "iterations".getBytes(StandardCharsets.US_ASCII), name);
        long pick = Long.remainderUnsigned(ByteBuffer.wrap(mac).getLong(), total);
        int index = Arrays.binarySearch(current.cumulative(), pick + 1);
        return current.counts()[index >= 0 ? index : -index - 1];
    }

    private static Distribution of(Map<Integer, Long> histogram) {
        TreeMap<Integer, Long> sorted = new TreeMap<>(histogram);
        sorted.values().removeIf(n -> n == null || n <= 0);
        int[] counts = new int[sorted.size()];
        long[] cumulative = new long[sorted.size()];
        int i = 0;
        long sum = 0;
        for (Map.Entry<Integer, Long> entry : sorted.entrySet()) {
            sum += entry.getValue();
            counts[i] = entry.getKey();
            cumulative[i++] = sum;
        }
        return new Distribution(counts, cumulative);
    }
}
