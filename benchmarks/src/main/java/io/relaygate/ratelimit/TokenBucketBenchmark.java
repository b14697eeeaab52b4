package io.relaygate.ratelimit;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link TokenBucket#tryAcquire} alone and contended: {@code rate=0} is the unlimited fast path, a high rate keeps
 * the bucket granting (every call a compare-and-set), so the contended figures measure the CAS, not waiting.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TokenBucketBenchmark {

    @Param({"0", "100000000000"})
    public long rate;

    private TokenBucket bucket;

    @Setup
    public void setUp() {
        bucket = new TokenBucket(rate, 0.2, 64 * 1024, System::nanoTime);
    }

    @Benchmark
    @Threads(1)
    public long oneThread() {
        return bucket.tryAcquire(16 * 1024);
    }

    @Benchmark
    @Threads(2)
    public long twoThreads() {
        return bucket.tryAcquire(16 * 1024);
    }

    @Benchmark
    @Threads(4)
    public long fourThreads() {
        return bucket.tryAcquire(16 * 1024);
    }
}
