package io.relaygate.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data directory is private to the gateway's user, whatever the umask or an older release left (issue 9 #2). */
class DataDirectoryTest {

    @TempDir
    Path work;

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    @Test
    void aMissingDirectoryIsCreatedForItsOwnerOnly() throws Exception {
        Path data = work.resolve("a/data");
        DataDirectory.secure(data);
        assertThat(mode(data)).isEqualTo("rwx------");
    }

    @Test
    void anExistingDirectoryAndItsFilesLoseGroupAndOtherBitsWithALogLineEach() throws Exception {
        Path data = Files.createDirectory(work.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path db = Files.writeString(data.resolve("gateway.db"), "x");
        Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-r--r--"));
        Path readOnly = Files.writeString(data.resolve("admin.token"), "x");
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r--r-----"));
        Path fine = Files.writeString(data.resolve("link.secret"), "x");
        Files.setPosixFilePermissions(fine, PosixFilePermissions.fromString("rw-------"));
        try (LogCapture log = LogCapture.of(DataDirectory.class.getName())) {
            DataDirectory.secure(data);
            assertThat(log.linesContaining("tightened")).hasSize(3);
        }
        assertThat(mode(data)).isEqualTo("rwx------");
        assertThat(mode(db)).isEqualTo("rw-------");
        assertThat(mode(readOnly)).as("never widened").isEqualTo("r--------");
        assertThat(mode(fine)).isEqualTo("rw-------");
    }
}
