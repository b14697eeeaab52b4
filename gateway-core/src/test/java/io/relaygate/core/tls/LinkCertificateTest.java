package io.relaygate.core.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The link certificate: made once, owner-only key, a stable fingerprint that openssl computes the same. */
class LinkCertificateTest {

    @TempDir
    Path dataDir;

    @Test
    void theFirstStartMakesItAndLaterStartsReadTheSameOne() throws IOException {
        LinkCertificate made = LinkCertificate.loadOrCreate(dataDir);
        LinkCertificate again = LinkCertificate.loadOrCreate(dataDir);
        assertThat(made.fingerprint()).matches("sha256:[0-9a-f]{64}").isEqualTo(again.fingerprint());
        assertThat(made.chain().get(0).getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(made.chain().get(0).getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
                dataDir.resolve(LinkCertificate.KEY_FILE)))).isEqualTo("rw-------");
        assertThat(LinkCertificate.loadIfPresent(dataDir).fingerprint()).isEqualTo(made.fingerprint());
        assertThat(LinkCertificate.loadIfPresent(dataDir.resolve("elsewhere"))).isNull();
    }

    @Test
    void opensslComputesTheSameFingerprint() throws Exception {
        LinkCertificate made = LinkCertificate.loadOrCreate(dataDir);
        Process openssl = new ProcessBuilder("openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                dataDir.resolve(LinkCertificate.CERTIFICATE_FILE).toString()).redirectErrorStream(true).start();
        String out = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(openssl.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue()).as(out).isZero();
        // "sha256 Fingerprint=AB:CD:..." in OpenSSL 3
        String hex = out.substring(out.indexOf('=') + 1).trim().replace(":", "").toLowerCase(Locale.ROOT);
        assertThat("sha256:" + hex).isEqualTo(made.fingerprint());
    }

    @Test
    void aFileThatIsNotPemIsNamedInTheError() throws IOException {
        Path certificate = Files.writeString(dataDir.resolve("cert.pem"), "not a certificate\n");
        Path key = Files.writeString(dataDir.resolve("key.pem"), "not a key\n");
        assertThatThrownBy(() -> LinkCertificate.load(certificate, key)).isInstanceOf(IOException.class)
                .hasMessageContaining("cert.pem");
        LinkCertificate.loadOrCreate(dataDir);
        assertThatThrownBy(() -> LinkCertificate.load(dataDir.resolve(LinkCertificate.CERTIFICATE_FILE), key))
                .isInstanceOf(IOException.class).hasMessageContaining("key.pem");
    }
}
