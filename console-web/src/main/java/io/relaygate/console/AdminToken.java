package io.relaygate.console;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The console's admin token: from the configuration, else {@code <data-dir>/admin.token}, created on first start
 * (32 random bytes, mode 0600) and printed once on stdout, never logged. Compared in constant time. Immutable.
 */
final class AdminToken {

    static final String FILE = "admin.token";

    private final byte[] token;

    private AdminToken(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    static AdminToken load(String configured, Path dataDir) {
        if (configured != null) {
            return new AdminToken(configured);
        }
        Path file = dataDir.resolve(FILE);
        try {
            if (Files.isRegularFile(file)) {
                String saved = Files.readString(file, StandardCharsets.UTF_8).strip();
                String problem = problem(saved);
                if (problem != null) {
                    throw new UncheckedIOException(new IOException(file + ": the admin token is " + problem
                            + "; delete the file to have a new one made"));
                }
                return new AdminToken(saved);
            }
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            String created = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            Files.createDirectories(dataDir);
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (FileAlreadyExistsException e) {
                return load(null, dataDir);     // another process made it first
            }
            Files.writeString(file, created + "\n", StandardCharsets.UTF_8);
            // stdout, once, for the person starting the gateway; the log never sees it.
            System.out.println("console admin token (saved in " + file + "): " + created);
            System.out.flush();
            return new AdminToken(created);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@return what is wrong with {@code token} as an admin token, or null if nothing} A token travels in an
     * {@code Authorization: Bearer} header, so it is visible ASCII without spaces, and long enough not to be guessed.
     */
    static String problem(String token) {
        if (token.length() < 16) {
            return "too short (expected: at least 16 characters without whitespace)";
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return "not a bearer token (expected: at least 16 visible ASCII characters, no whitespace)";
            }
        }
        return null;
    }

    /** {@return whether {@code presented} is the token}, in time independent of where they differ */
    boolean matches(String presented) {
        if (presented == null) {
            return false;
        }
        return MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
    }

    /** {@return whether an {@code Authorization} header carries the token as a bearer credential} */
    boolean authorizes(String authorizationHeader) {
        if (authorizationHeader == null || !authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return matches(authorizationHeader.substring(7).trim());
    }
}
