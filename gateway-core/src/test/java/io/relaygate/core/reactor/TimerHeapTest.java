package io.relaygate.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The timer heap against a sorted list: random schedules, cancels and polls. */
class TimerHeapTest {

    @Test
    void pollsInDeadlineOrderAndCancelledTimersLeaveNothingBehind() {
        SplittableRandom random = new SplittableRandom(42);
        TimerHeap heap = new TimerHeap();
        List<Timer> reference = new ArrayList<>();
        Comparator<Timer> order = Comparator.<Timer>comparingLong(t -> t.deadline).thenComparingLong(t -> t.sequence);
        long sequence = 0;
        for (int step = 0; step < 200_000; step++) {
            int action = random.nextInt(10);
            if (action < 5 || reference.isEmpty()) {
                Timer timer = new Timer(random.nextLong(1_000), sequence++, () -> { }, heap);
                heap.add(timer);
                reference.add(timer);
            } else if (action < 8) {
                Timer victim = reference.remove(random.nextInt(reference.size()));
                victim.cancel();
                victim.cancel();
            } else {
                reference.sort(order);
                Timer expected = reference.remove(0);
                assertThat(heap.poll()).isSameAs(expected);
                expected.fired();
            }
            assertThat(heap.size()).isEqualTo(reference.size());
        }
        reference.forEach(Timer::cancel);
        assertThat(heap.size()).isZero();
        assertThat(heap.peek()).isNull();
    }
}
