package io.relaygate.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The event loop: tasks from many threads, timers, and failures that leave the loop running. */
@Timeout(20)
class EventLoopTest {

    private final EventLoop loop = new EventLoop("test-loop");

    @AfterEach
    void stop() throws InterruptedException {
        loop.shutdown();
        assertThat(loop.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void tasksFromManyThreadsAllRunOnTheLoopInPerProducerOrder() throws Exception {
        int producers = 4;
        int perProducer = 50_000;
        CountDownLatch done = new CountDownLatch(producers * perProducer);
        List<List<Integer>> seen = new ArrayList<>();
        AtomicInteger offLoop = new AtomicInteger();
        for (int p = 0; p < producers; p++) {
            seen.add(Collections.synchronizedList(new ArrayList<>()));
        }
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            Thread t = new Thread(() -> {
                for (int i = 0; i < perProducer; i++) {
                    int value = i;
                    loop.execute(() -> {
                        if (!loop.inLoop()) {
                            offLoop.incrementAndGet();
                        }
                        seen.get(producer).add(value);
                        done.countDown();
                    });
                }
            });
            t.start();
            threads.add(t);
        }
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(offLoop.get()).isZero();
        for (List<Integer> values : seen) {
            for (int i = 0; i < perProducer; i++) {
                assertThat(values.get(i)).isEqualTo(i);
            }
        }
    }

    @Test
    void timersFireInDeadlineOrderAndNotEarly() throws Exception {
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch fired = new CountDownLatch(3);
        long start = System.nanoTime();
        long[] firstAt = new long[1];
        loop.execute(() -> {
            loop.schedule(TimeUnit.MILLISECONDS.toNanos(200), () -> {
                order.add(2);
                fired.countDown();
            });
            loop.schedule(TimeUnit.MILLISECONDS.toNanos(100), () -> {
                firstAt[0] = System.nanoTime();
                order.add(1);
                fired.countDown();
            });
            Timer cancelled = loop.schedule(TimeUnit.MILLISECONDS.toNanos(50), () -> order.add(-1));
            cancelled.cancel();
            loop.schedule(TimeUnit.MILLISECONDS.toNanos(300), () -> {
                order.add(3);
                fired.countDown();
            });
        });
        assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(order).containsExactly(1, 2, 3);
        assertThat(TimeUnit.NANOSECONDS.toMillis(firstAt[0] - start)).isGreaterThanOrEqualTo(100);
    }

    @Test
    void aFailingTaskDoesNotStopTheLoop() throws Exception {
        CountDownLatch after = new CountDownLatch(1);
        loop.execute(() -> {
            throw new IllegalStateException("a bug in one task");
        });
        loop.execute(after::countDown);
        assertThat(after.await(5, TimeUnit.SECONDS)).isTrue();
    }
}
