package io.relaygate.core.shaping;

import io.relaygate.core.config.SectionConfig;
import io.relaygate.core.config.Settings;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.spi.RateLimiter;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What shaping adds to one relay read, measured alone (loopback throughput is too noisy on a shared machine to show
 * a few nanoseconds): the throttle's grant, used and settle around a 64 KiB read, with no limiter ({@code none}),
 * the token bucket at rate 0 ({@code unlimited}) and at a rate never reached ({@code granting}: a compare-and-set
 * per read, and one to give back what the read did not use), and with the direction's own bucket beside the total
 * ({@code directional}: {@code --rate-up}, two of each).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class ThrottleBenchmark {

    private static final int READ = 64 * 1024;

    @Param({"none", "unlimited", "granting", "directional"})
    public String limiter;

    private EventLoop loop;
    private Throttle throttle;
    private final Runnable resume = () -> { };

    @Setup
    public void setUp() {
        loop = new EventLoop("bench-loop");
        if (limiter.equals("none")) {
            throttle = Throttle.UNLIMITED;
            return;
        }
        RateLimiter rates = new TokenBucketPlugin().rateLimiters().get(0).create(
                new SectionConfig(Settings.empty(), "plugins.tokenBucket"), null);
        long rate = limiter.equals("unlimited") ? 0 : 1L << 40;
        Shaping.Meter meter = new Shaping.Meter("bench", rates.bucket("bench", rate));
        if (limiter.equals("directional")) {
            meter.upBucket = rates.bucket("bench/up", rate);      // a direction's own limit beside the total
        }
        throttle = new Throttle(meter, loop, true);
    }

    @TearDown
    public void tearDown() {
        loop.shutdown();
    }

    /** One read's worth of shaping: ask, read (here: pretend 60 KiB arrived), count, give back the rest. */
    @Benchmark
    public int aroundOneRead() {
        int allowed = throttle.grant(READ, resume);
        int read = Math.min(allowed, 60 * 1024);
        throttle.used(read);
        throttle.settle();
        return read;
    }
}
