package io.relaygate.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.junit.jupiter.api.Test;

/** SCRAM-SHA-256 material: PBKDF2 against published vectors, verification, no secrets in toString. */
class ScramCredentialTest {

    @Test
    void pbkdf2MatchesTheRfc7914Vector() {
        byte[] derived = ScramCredential.saltedPassword("passwd".getBytes(StandardCharsets.US_ASCII),
                "salt".getBytes(StandardCharsets.US_ASCII), 1);
        assertThat(HexFormat.of().formatHex(derived))
                .isEqualTo("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
    }

    @Test
    void pbkdf2MatchesTheJdkForManyIterations() throws Exception {
        byte[] salt = "NaCl-and-more-salt".getBytes(StandardCharsets.US_ASCII);
        byte[] ours = ScramCredential.saltedPassword("pässword".getBytes(StandardCharsets.UTF_8), salt, 4096);
        byte[] jdk = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec("pässword".toCharArray(), salt, 4096, 256)).getEncoded();
        assertThat(ours).isEqualTo(jdk);
    }

    @Test
    void verifiesTheRightPasswordOnly() {
        ScramCredential credential = ScramCredential.create("secret".getBytes(), 32, new SecureRandom());
        assertThat(credential.verifies("secret".getBytes())).isTrue();
        assertThat(credential.verifies("Secret".getBytes())).isFalse();
        assertThat(credential.verifies("secret ".getBytes())).isFalse();
        assertThat(credential.toString()).doesNotContain("secret").isEqualTo("ScramCredential[iterations=32]");
        assertThat(ScramCredential.create("secret".getBytes(), 32, new SecureRandom()).salt())
                .isNotEqualTo(credential.salt());
    }
}
