package io.relaygate.core.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.shaping.Shaping;
import io.relaygate.spi.Account;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.ScramCredential;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.TestClock;
import java.security.SecureRandom;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The allowances' bookkeeping that the gateway tests cannot time: logins and changes crossing. */
class AllowancesTest {

    private final TestClock clock = new TestClock(Instant.parse("2026-11-28T12:00:00Z"));
    private final Allowances allowances = new Allowances(new MemoryAccounts(), new UserSessions(), Shaping.perUser(null),
            clock);
    private final ScramCredential credential = ScramCredential.create("pw".getBytes(), 64, new SecureRandom());

    private Account account(Instant updated, AccountLimits limits) {
        return new Account("alice", credential, true, Instant.EPOCH, updated, 0, 0, limits);
    }

    @Test
    void aLoginThatLookedItsAccountUpBeforeAChangeDoesNotUndoIt() {
        Account atLookup = account(Instant.parse("2026-11-28T11:00:00Z"), AccountLimits.NONE);
        allowances.loggedIn(atLookup);
        Account changed = account(Instant.parse("2026-11-28T11:30:00Z"), AccountLimits.NONE.withMaxConnections(1)
                .withExpires(Instant.parse("2026-11-28T12:30:00Z")));
        allowances.changed(changed);
        allowances.loggedIn(atLookup);          // another link's login, its lookup older than the change
        assertThat(allowances.limits("alice")).isEqualTo(changed.limits());
        assertThat(allowances.admit("alice").refused()).isFalse();
        assertThat(allowances.admit("alice").refusal()).as("the cap the change set").isNotNull();

        Account newer = account(Instant.parse("2026-11-28T11:45:00Z"), AccountLimits.NONE);
        allowances.loggedIn(newer);             // a login after the change sees the newest account
        assertThat(allowances.limits("alice")).isEqualTo(AccountLimits.NONE);
    }

    @Test
    void expiryAndDisablingRefuseTheLoginAsAWrongPasswordWouldWithTheReasonForTheLog() {
        Account expiring = account(Instant.EPOCH, AccountLimits.NONE.withExpires(Instant.parse(
                "2026-11-28T12:00:01Z")));
        assertThat(allowances.loginRefusal(expiring)).isNull();
        clock.set(Instant.parse("2026-11-28T12:00:01Z"));
        assertThat(allowances.loginRefusal(expiring)).isEqualTo("expired user");
        assertThat(Allowances.loginRefusal(new Account("bob", credential, false, Instant.EPOCH, Instant.EPOCH, 0, 0,
                AccountLimits.NONE), clock.instant())).isEqualTo("disabled user");
    }
}
