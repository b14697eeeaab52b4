package io.relaygate.core.policy;

import io.relaygate.core.policy.LogBudget;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogBudgetTest {

    @Test
    void linesBeyondTheBudgetAreDroppedAndCountedOnTheNextLineAllowed() {
        LogBudget budget = new LogBudget(3);
        assertThat(budget.take()).isZero();
        assertThat(budget.take()).isZero();
        assertThat(budget.take()).isZero();
        for (int i = 0; i < 1000; i++) {
            assertThat(budget.take()).as("a flood is held back").isEqualTo(-1);
        }
        assertThat(LogBudget.note(0)).isEmpty();
        assertThat(LogBudget.note(1000)).isEqualTo(" (1000 similar lines suppressed)");
    }
}
