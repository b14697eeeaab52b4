package io.relaygate.core;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data directory holds the account database, the link secret, the admin token and the saved link password:
 * readable by the gateway's own user only. It is created 0700; at every start (either role, and {@code gateway
 * user}) it and every file in it lose their group and other permissions (so 0700 and 0600), with a log line for
 * each one that had any. Files made later are created 0600 by their writers.
 * <p>
 * The account database matters as much as the token: a StoredKey read from it and one captured link login give the
 * ClientKey, which logs in without the password.
 */
public final class DataDirectory {

    private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);
    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private DataDirectory() {
    }

    /**
     * Creates {@code dir} (mode 0700) if it is missing, else tightens it and its files.
     *
     * @throws StartException if it cannot be created or its modes cannot be set
     */
    public static void secure(Path dir) {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIRECTORY));
                Files.setPosixFilePermissions(dir, DIRECTORY);     // whatever the umask did
                return;
            }
            tighten(dir);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                        tighten(file);
                    }
                }
            }
        } catch (IOException | SecurityException e) {
            throw new StartException("data directory " + dir + ": cannot make it private to this user ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")", e);
        }
    }

    /** Drops every group and other bit; the owner's bits stay as they are (a read-only file stays read-only). */
    private static void tighten(Path path) throws IOException {
        Set<PosixFilePermission> current = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> ownerOnly = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission p : current) {
            if (p.name().startsWith("OWNER")) {
                ownerOnly.add(p);
            }
        }
        if (!ownerOnly.equals(current)) {
            Files.setPosixFilePermissions(path, ownerOnly);
            log.info("tightened {} from {} to {}: the data directory is for this user only", path,
                    PosixFilePermissions.toString(current), PosixFilePermissions.toString(ownerOnly));
        }
    }
}
