package io.relaygate.core.link;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/**
 * The remote's link secret, {@code <data-dir>/link.secret}: 32 random bytes made on first start (mode 0600) from
 * which the fake salts of unknown users derive. It must stay the same across restarts, or a user's existence
 * would show as a changing salt.
 */
public final class LinkSecret {

    private static final int BYTES = 32;

    private LinkSecret() {
    }

    /**
     * Reads the secret, creating it on first use.
     *
     * @throws IOException if the data directory cannot be read or written
     */
    public static byte[] load(Path dataDir) throws IOException {
        Path file = dataDir.resolve("link.secret");
        if (!Files.exists(file)) {
            Files.createDirectories(dataDir);
            byte[] secret = new byte[BYTES];
            new SecureRandom().nextBytes(secret);
            try {
                Files.write(Files.createFile(file, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------"))), secret, StandardOpenOption.WRITE);
                return secret;
            } catch (FileAlreadyExistsException raced) {
                // another process made it first: use theirs
            }
        }
        byte[] secret = Files.readAllBytes(file);
        if (secret.length < BYTES) {
            throw new IOException(file + ": shorter than " + BYTES + " bytes; delete it to make a new one");
        }
        return secret;
    }
}
