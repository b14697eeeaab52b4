package io.relaygate.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The token bucket with a controllable clock, and under real concurrency. */
class TokenBucketTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private TokenBucket bucket(long rate, double burstSeconds, long minBurst) {
        return new TokenBucket(rate, burstSeconds, minBurst, now::get);
    }

    private void advanceMillis(long millis) {
        now.addAndGet(millis * 1_000_000L);
    }

    @Test
    void aFullBucketGrantsItsCapacityThenRefillsAtTheRate() {
        TokenBucket bucket = bucket(1_000_000, 0.1, 1);           // 1 MB/s, 100 KB burst
        assertThat(bucket.capacity()).isEqualTo(100_000);
        assertThat(bucket.tryAcquire(250_000)).isEqualTo(100_000);
        assertThat(bucket.tryAcquire(1)).isZero();
        advanceMillis(10);
        assertThat(bucket.tryAcquire(50_000)).as("10 KB is less than a reservation's 20 KB: no dribbles").isZero();
        assertThat(bucket.tryAcquire(10_000)).as("but all that is wanted").isEqualTo(10_000);
        advanceMillis(20);
        assertThat(bucket.tryAcquire(50_000)).isEqualTo(20_000);
        advanceMillis(1_000);
        assertThat(bucket.tryAcquire(1_000_000)).as("never more than the capacity").isEqualTo(100_000);
    }

    @Test
    void theFloorKeepsLowRatesEfficient() {
        TokenBucket bucket = bucket(1000, 0.1, 64 * 1024);
        assertThat(bucket.capacity()).isEqualTo(64 * 1024);
    }

    @Test
    void aRateChangeAppliesAtOnce() {
        TokenBucket bucket = bucket(1_000_000, 0.1, 1);
        bucket.tryAcquire(100_000);
        advanceMillis(100);
        assertThat(bucket.tryAcquire(1_000_000)).isEqualTo(100_000);
        bucket.rate(4_000_000);
        assertThat(bucket.capacity()).isEqualTo(400_000);
        advanceMillis(100);
        assertThat(bucket.tryAcquire(1_000_000)).as("100 ms at 4 MB/s").isEqualTo(400_000);
        bucket.rate(0);
        assertThat(bucket.tryAcquire(123_456_789)).as("unlimited").isEqualTo(123_456_789);
        assertThat(bucket.reserve(1_000_000)).isZero();
    }

    @Test
    void aReservationWaitsUntilItsBytesAreCoveredAndQueuesBehindEarlierOnes() {
        TokenBucket bucket = bucket(1_000_000, 0.1, 1);           // 1 MB/s, 100 KB burst, 20 KB reservations
        assertThat(bucket.reservationSize()).isEqualTo(20_000);
        assertThat(bucket.tryAcquire(100_000)).isEqualTo(100_000);
        assertThat(bucket.reserve(20_000)).as("20 KB at 1 MB/s").isEqualTo(20_000_000);
        assertThat(bucket.reserve(20_000)).as("behind the first").isEqualTo(40_000_000);
        advanceMillis(30);
        assertThat(bucket.tryAcquire(10_000)).as("nothing jumps the queue while others wait").isZero();
        advanceMillis(20);
        assertThat(bucket.tryAcquire(10_000)).as("both reservations covered, 10 ms of rate left").isEqualTo(10_000);
    }

    @Test
    void aRefundGivesUnusedBytesBackButNeverOverfillsTheBucket() {
        TokenBucket bucket = bucket(1_000_000, 0.1, 1);
        assertThat(bucket.tryAcquire(100_000)).isEqualTo(100_000);
        bucket.refund(30_000);
        assertThat(bucket.tryAcquire(100_000)).isEqualTo(30_000);
        advanceMillis(1_000);
        bucket.refund(50_000);
        assertThat(bucket.tryAcquire(1_000_000)).as("capacity, not capacity + refund").isEqualTo(100_000);
    }

    @Test
    void aRaisedRateAlsoSpeedsUpTheBytesAlreadyOwed() {
        TokenBucket bucket = bucket(1_000_000, 0.1, 1);
        bucket.tryAcquire(100_000);
        assertThat(bucket.reserve(20_000)).isEqualTo(20_000_000);
        bucket.rate(4_000_000);                                  // the 20 KB owed now take 5 ms
        advanceMillis(5);
        assertThat(bucket.reserve(4_000)).as("covered after 1 ms more at 4 MB/s").isEqualTo(1_000_000);
        bucket.rate(1_000_000);
        assertThat(bucket.reserve(1_000)).as("back at 1 MB/s: 4 KB owed, plus 1 KB").isEqualTo(5_000_000);
    }

    @Test
    void overAnyPeriodTheGrantsAreRateTimesTimePlusBurst() {
        TokenBucket bucket = bucket(1_000_000, 0.2, 1);
        long granted = 0;
        for (int step = 0; step < 10_000; step++) {
            granted += bucket.tryAcquire(5_000 + step % 7919);     // always more than 1 ms of rate
            advanceMillis(1);
        }
        // 10 s at 1 MB/s, plus the 200 KB it started with
        assertThat(granted).isLessThanOrEqualTo(10_000_000 + 200_000).isGreaterThan(9_900_000);
    }

    @Test
    @Timeout(20)
    void manyThreadsTogetherNeverGetMoreThanRateTimesTimePlusBurst() throws Exception {
        long rate = 50_000_000;
        TokenBucket bucket = new TokenBucket(rate, 0.1, 1, System::nanoTime);
        AtomicLong granted = new AtomicLong();
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        long durationNanos = 1_000_000_000L;
        long[] began = new long[1];
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                boolean reserve = false;
                while (System.nanoTime() - began[0] < durationNanos) {
                    // Half the time reserve, as a parked relay direction does, so both paths race each other.
                    if (reserve) {
                        long size = bucket.reservationSize();
                        long due = System.nanoTime() + bucket.reserve(size);
                        for (long left; (left = due - System.nanoTime()) > 0; ) {
                            LockSupport.parkNanos(left);    // a timer, not synchronisation: park may wake early
                        }
                        granted.addAndGet(size);
                    } else {
                        granted.addAndGet(bucket.tryAcquire(16 * 1024));
                    }
                    reserve = !reserve;
                }
            });
            worker.start();
            workers.add(worker);
        }
        began[0] = System.nanoTime();
        start.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        double elapsed = (System.nanoTime() - began[0]) / 1e9;
        assertThat(granted.get()).isLessThanOrEqualTo((long) (rate * elapsed) + bucket.capacity());
        assertThat(granted.get()).as("the bucket is not starved either").isGreaterThan((long) (rate * 0.5));
    }
}
