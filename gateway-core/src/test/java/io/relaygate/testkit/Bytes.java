package io.relaygate.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** Deterministic payloads and digests. */
public final class Bytes {

    /**
     * Threads making or digesting test bytes at once. Hundreds of transfer threads all busy with that work would take
     * the machine's CPU from the gateway's few event loops in proportion to their number, and a test of the gateway
     * would measure the test; the work still runs, a few threads at a time, and no permit is held while blocked.
     */
    private static final java.util.concurrent.Semaphore CPU = new java.util.concurrent.Semaphore(
            Math.max(2, Runtime.getRuntime().availableProcessors()));

    private Bytes() {
    }

    private static void acquireCpu() {
        CPU.acquireUninterruptibly();
    }

    /** {@return a fresh SHA-256 digest} */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    /**
     * Writes {@code total} pseudo-random bytes from {@code seed} in writes of random sizes (1 byte to 64 KiB).
     *
     * @return the SHA-256 of what was written
     */
    public static byte[] writeRandom(OutputStream out, long total, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        MessageDigest digest = sha256();
        byte[] chunk = new byte[64 * 1024];
        long left = total;
        while (left > 0) {
            int size = (int) Math.min(left, 1 + random.nextInt(chunk.length));
            acquireCpu();
            try {
                for (int i = 0; i < size; i += 8) {
                    long bits = random.nextLong();
                    for (int j = i; j < Math.min(size, i + 8); j++, bits >>>= 8) {
                        chunk[j] = (byte) bits;
                    }
                }
                digest.update(chunk, 0, size);
            } finally {
                CPU.release();
            }
            out.write(chunk, 0, size);
            left -= size;
        }
        out.flush();
        return digest.digest();
    }

    /** Reads to EOF. {@return the SHA-256 of what was read, and how much, via {@code count[0]}} */
    public static byte[] readAll(InputStream in, long[] count) throws IOException {
        MessageDigest digest = sha256();
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
            acquireCpu();
            try {
                digest.update(buffer, 0, n);
            } finally {
                CPU.release();
            }
            total += n;
        }
        if (count != null) {
            count[0] = total;
        }
        return digest.digest();
    }

    /** {@return {@code n} deterministic bytes} */
    public static byte[] deterministic(int n, long seed) {
        byte[] bytes = new byte[n];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) random.nextInt(256);
        }
        return bytes;
    }
}
