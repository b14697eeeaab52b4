package io.relaygate.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Quotas per UTC calendar period, expiry instants and counts: what the command line and the REST API accept. */
class QuotaTest {

    @Test
    void aQuotaIsAnAmountPerDayWeekOrMonthAndPrintsAsItIsRead() {
        assertThat(Quota.parse("50GiB/month")).isEqualTo(new Quota(50L << 30, Quota.Period.MONTH));
        assertThat(Quota.parse(" 500MB/Day ")).isEqualTo(new Quota(500_000_000L, Quota.Period.DAY));
        assertThat(Quota.parse("1TiB/week").toString()).isEqualTo("1TiB/week");
        assertThat(Quota.parse("1500/day").toString()).isEqualTo("1500B/day");
        assertThat(Quota.parse("1EiB/month").bytes()).isEqualTo(Quota.MAX_BYTES);
        assertThat(Quota.parse("none")).isSameAs(Quota.NONE);
        assertThat(Quota.NONE.limited()).isFalse();
        assertThat(Quota.NONE.toString()).isEqualTo("none");
    }

    @ParameterizedTest
    @ValueSource(strings = {"5/fortnight", "0/day", "-1GiB/month", "2EiB/month", "GiB/month", "10GiB", "/month",
        "1.5GiB/month", "10GiB/month/day", "", "unlimited"})
    void anythingElseIsRefusedNamingTheExpectedForm(String text) {
        assertThatThrownBy(() -> Quota.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("quota: expected an amount per day, week or month");
    }

    @Test
    void periodsAreUtcCalendarDaysWeeksFromMondayAndMonths() {
        Instant sunday = Instant.parse("2026-11-29T23:59:59Z");
        assertThat(Quota.parse("1GiB/day").periodStart(sunday)).isEqualTo(LocalDate.of(2026, 11, 29));
        assertThat(Quota.parse("1GiB/day").periodEnd(sunday)).isEqualTo(Instant.parse("2026-11-30T00:00:00Z"));
        assertThat(Quota.parse("1GiB/week").periodStart(sunday)).isEqualTo(LocalDate.of(2026, 11, 23));
        assertThat(Quota.parse("1GiB/week").periodEnd(sunday)).isEqualTo(Instant.parse("2026-11-30T00:00:00Z"));
        assertThat(Quota.parse("1GiB/month").periodStart(sunday)).isEqualTo(LocalDate.of(2026, 11, 1));
        assertThat(Quota.parse("1GiB/month").periodEnd(Instant.parse("2026-12-31T12:00:00Z")))
                .isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
        assertThat(Quota.NONE.periodEnd(sunday)).isNull();
    }

    @Test
    void anExpiryIsADateValidThroughThatDayAnInstantOrNever() {
        assertThat(AccountRules.parseExpiry("2027-01-31")).isEqualTo(Instant.parse("2027-02-01T00:00:00Z"));
        assertThat(AccountRules.parseExpiry("2027-01-31T12:00:00Z")).isEqualTo(Instant.parse("2027-01-31T12:00:00Z"));
        assertThat(AccountRules.parseExpiry("2027-01-31T12:00:00+01:00"))
                .isEqualTo(Instant.parse("2027-01-31T11:00:00Z"));
        assertThat(AccountRules.parseExpiry("never")).isNull();
        assertThat(AccountLimits.NONE.withExpires(Instant.parse("2027-02-01T00:00:00Z"))
                .expiredAt(Instant.parse("2027-02-01T00:00:00Z"))).as("at the instant").isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"yesterday-ish", "2027-13-01", "2027-02-30", "1969-12-30", "10000-01-01", "2027/01/31",
        "2027-01-31T12:00:00", "", "tomorrow"})
    void anyOtherExpiryIsRefusedNamingTheForms(String text) {
        assertThatThrownBy(() -> AccountRules.parseExpiry(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("expires: expected a UTC date such as 2027-01-31");
    }

    @Test
    void countsAndRatesHaveRanges() {
        assertThat(AccountRules.checkMaxConnections(0)).isZero();
        assertThatThrownBy(() -> AccountRules.checkMaxConnections(-1)).hasMessageStartingWith("max-connections:");
        assertThatThrownBy(() -> AccountRules.checkMaxConnections(AccountRules.MAX_CONNECTIONS + 1))
                .hasMessageStartingWith("max-connections:");
        assertThatThrownBy(() -> new AccountLimits(0, -1, 0, 0, 0, null, Quota.NONE)).hasMessageStartingWith("rate:");
        assertThat(ByteUnits.format(50L << 30)).isEqualTo("50GiB");
        assertThat(ByteUnits.format(0)).isEqualTo("0B");
        assertThat(ByteUnits.parse("1PiB")).isEqualTo(1L << 50);
        assertThat(ByteUnits.parse("16EiB")).as("overflow").isEqualTo(-1);
    }

    @Test
    void anUpdateChangesOnlyWhatItNames() {
        AccountLimits limits = new AccountLimits(1, 2, 3, 4, 5, Instant.EPOCH, Quota.parse("1GiB/day"));
        assertThat(AccountUpdate.NONE.applyTo(limits)).isEqualTo(limits);
        assertThat(AccountUpdate.NONE.isEmpty()).isTrue();
        AccountLimits changed = AccountUpdate.NONE.withRateDown(30).withExpires(null).withQuota(Quota.NONE)
                .applyTo(limits);
        assertThat(changed).isEqualTo(new AccountLimits(1, 2, 30, 4, 5, null, Quota.NONE));
    }
}
