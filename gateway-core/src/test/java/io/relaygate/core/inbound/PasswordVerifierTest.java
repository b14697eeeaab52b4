package io.relaygate.core.inbound;

import io.relaygate.core.accounts.Allowances;
import java.time.Instant;
import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.spi.AuthResult;
import io.relaygate.testkit.MemoryAccounts;
import org.junit.jupiter.api.Test;

/** Plaintext password checks: one key derivation per verified pair a minute, never a cached refusal. */
class PasswordVerifierTest {

    @Test
    void aVerifiedPasswordIsRememberedButNotAWrongOneNorAChangedCredential() {
        MemoryAccounts accounts = new MemoryAccounts().put("alice", "secret", true);
        PasswordVerifier verifier = new PasswordVerifier(accounts::find,
                a -> Allowances.loginRefusal(a, Instant.now()), a -> { });
        assertThat(verifier.verify("alice", "secret".getBytes())).isEqualTo(AuthResult.OK);
        assertThat(verifier.verify("alice", "secret".getBytes())).isEqualTo(AuthResult.OK);
        assertThat(verifier.derivations()).as("the second login skipped the derivation").isEqualTo(1);

        assertThat(verifier.verify("alice", "wrong".getBytes())).isEqualTo(AuthResult.REJECTED);
        assertThat(verifier.verify("alice", "wrong".getBytes())).isEqualTo(AuthResult.REJECTED);
        assertThat(verifier.derivations()).as("refusals always pay").isEqualTo(3);

        accounts.put("alice", "new", true);                   // a new credential invalidates the memory
        assertThat(verifier.verify("alice", "secret".getBytes())).isEqualTo(AuthResult.REJECTED);
        assertThat(verifier.verify("alice", "new".getBytes())).isEqualTo(AuthResult.OK);

        accounts.limits("alice", l -> l.withExpires(Instant.now().minusSeconds(1)));
        assertThat(verifier.verify("alice", "new".getBytes())).as("expired").isEqualTo(AuthResult.REJECTED);
        accounts.limits("alice", l -> l.withExpires(Instant.now().plusSeconds(3600)));
        assertThat(verifier.verify("alice", "new".getBytes())).as("expires later").isEqualTo(AuthResult.OK);

        accounts.disable("alice");
        assertThat(verifier.verify("alice", "new".getBytes())).as("disabled").isEqualTo(AuthResult.REJECTED);
        assertThat(verifier.verify("nobody", "new".getBytes())).isEqualTo(AuthResult.REJECTED);
    }

    @Test
    void thePasswordArrayIsWipedAfterUse() {
        PasswordVerifier verifier = new PasswordVerifier(new MemoryAccounts().put("alice", "secret", true)::find,
                a -> null, a -> { });
        byte[] password = "secret".getBytes();
        verifier.verify("alice", password);
        assertThat(password).containsOnly(0);
    }

    @Test
    void whileTheStoreIsAwayLoginsAreUnavailableAndTheLogSaysSoAFewTimesAMinuteNotOncePerLogin() {
        PasswordVerifier verifier = new PasswordVerifier(name -> {
            throw new io.relaygate.spi.AccountStoreException("account store test: find failed: down", null);
        }, a -> null, a -> { });
        try (io.relaygate.testkit.LogCapture log = io.relaygate.testkit.LogCapture.of(
                PasswordVerifier.class.getName())) {
            for (int i = 0; i < 50; i++) {
                assertThat(verifier.verify("alice", "pw".getBytes())).isEqualTo(AuthResult.UNAVAILABLE);
            }
            assertThat(log.linesContaining("the account store failed to answer")).hasSize(6);
        }
    }
}
