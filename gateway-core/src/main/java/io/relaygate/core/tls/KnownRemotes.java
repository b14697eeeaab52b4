package io.relaygate.core.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The local's {@code known-remotes} file for trust on first use: one line {@code HOST:PORT sha256:<hex>} per remote,
 * written the first time a remote is seen and read on every handshake after. Thread-safe (handshakes of several
 * loops may meet here); the file is rewritten whole and atomically, owner-only.
 */
public final class KnownRemotes {

    /** The file's name in the data directory. */
    public static final String FILE = "known-remotes";

    private final Path file;

    public KnownRemotes(Path file) {
        this.file = file;
    }

    /** {@return the file} */
    public Path file() {
        return file;
    }

    /**
     * Records {@code fingerprint} for {@code remote} unless the remote is known already.
     *
     * @return the fingerprint on record now: {@code fingerprint} itself when it was new or matches, the recorded
     *         one when the remote presents another
     * @throws UncheckedIOException if the file cannot be read or written (the handshake then fails)
     */
    public synchronized String recordIfNew(String remote, String fingerprint) {
        try {
            Map<String, String> known = read();
            String recorded = known.get(remote);
            if (recorded != null) {
                return recorded;
            }
            known.put(remote, fingerprint);
            write(known);
            return fingerprint;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** {@return the fingerprint recorded for {@code remote}, or null} */
    public synchronized String recorded(String remote) throws IOException {
        return read().get(remote);
    }

    private Map<String, String> read() throws IOException {
        Map<String, String> known = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return known;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (String line : lines) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length == 2 && !line.startsWith("#")) {
                known.put(fields[0], fields[1].toLowerCase(java.util.Locale.ROOT));
            }
        }
        return known;
    }

    private void write(Map<String, String> known) throws IOException {
        StringBuilder text = new StringBuilder("# remotes this local trusts on first use: HOST:PORT sha256:<hex>\n");
        known.forEach((remote, fingerprint) -> text.append(remote).append(' ').append(fingerprint).append('\n'));
        Path temporary = file.resolveSibling(FILE + ".tmp");
        Files.deleteIfExists(temporary);
        try {
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(temporary);
        }
        Files.writeString(temporary, text, StandardCharsets.UTF_8);
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
