package io.relaygate.ratelimitredis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The one thread that talks to Redis: it refills the leases of the {@link LeasedBucket}s that ask (one pipelined
 * round trip of the lease script for all of them), retries those Redis granted less than asked shortly after, and
 * beats a heartbeat each second that also counts the remotes. When Redis cannot be reached it says so once and leases
 * from a local bucket at this remote's share of each rate (1 / the remotes last counted) until Redis answers again.
 * The event loops only enqueue and unpark; nothing they call waits for Redis.
 */
final class LeaseKeeper implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

    private static final long HEARTBEAT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A remote counts as part of the cluster until this long after its last heartbeat. */
    private static final long REMOTE_WINDOW_MILLIS = 5_000;
    /** After a short grant, ask again this soon at the latest: the cluster's tokens go to those who ask. */
    private static final long SHORT_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int MAX_BATCH = 256;

    private final RedisConfig config;
    private final String remoteId;
    private final String leaseScript = script("lease.lua");
    private final String heartbeatScript = script("heartbeat.lua");
    private final ConcurrentLinkedQueue<LeasedBucket> asked = new ConcurrentLinkedQueue<>();
    private final LongAdder roundTrips = new LongAdder();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile int remotes = 1;
    private volatile boolean clustered;
    /** What the latest connection attempt, on its own thread, made or met. */
    private final AtomicReference<Connected> arrived = new AtomicReference<>();
    private final AtomicReference<Exception> failedAttempt = new AtomicReference<>();
    private volatile boolean connecting;

    // Confined to the keeper's thread.
    private final PriorityQueue<LeasedBucket> retries =
            new PriorityQueue<>(Comparator.comparingLong(b -> b.retryAt));
    private Jedis jedis;
    private String leaseSha;
    private String heartbeatSha;
    private long nextHeartbeat;
    private boolean away;

    LeaseKeeper(RedisConfig config, String remoteId) {
        this.config = config;
        this.remoteId = remoteId;
        this.thread = new Thread(this::run, "relaygate-redis-leases");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Queues {@code bucket} for a refill. Any thread; lock-free. */
    void ask(LeasedBucket bucket) {
        asked.offer(bucket);
        LockSupport.unpark(thread);
    }

    /** {@return whether leases come from Redis now (false while Redis is away and each remote keeps its share)} */
    boolean clustered() {
        return clustered;
    }

    /** {@return the remotes counted by the last heartbeat that reached Redis, this one included} */
    int remotes() {
        return remotes;
    }

    /** {@return the round trips to Redis since start} */
    long roundTrips() {
        return roundTrips.sum();
    }

    private void run() {
        List<LeasedBucket> due = new ArrayList<>();
        while (running) {
            long now = System.nanoTime();
            if (now - nextHeartbeat >= 0 || (jedis == null && (arrived.get() != null || failedAttempt.get() != null))) {
                heartbeat();
                nextHeartbeat = System.nanoTime() + HEARTBEAT_NANOS;
            }
            for (LeasedBucket bucket; due.size() < MAX_BATCH && (bucket = asked.poll()) != null; ) {
                bucket.queued.set(false);
                if (!bucket.retrying && !bucket.batched) {      // one waiting for its retry is asked then
                    bucket.batched = true;
                    due.add(bucket);
                }
            }
            while (due.size() < MAX_BATCH && !retries.isEmpty() && retries.peek().retryAt - now <= 0) {
                LeasedBucket bucket = retries.poll();
                bucket.retrying = false;
                if (!bucket.batched) {
                    bucket.batched = true;
                    due.add(bucket);
                }
            }
            if (!due.isEmpty()) {
                try {
                    lease(due);
                } catch (RuntimeException e) {
                    // A bug here must not stop every limited user's traffic: the buckets ask again on their next read.
                    log.error("refilling leases failed", e);
                } finally {
                    due.forEach(bucket -> bucket.batched = false);
                    due.clear();
                }
                continue;
            }
            long wake = nextHeartbeat;
            if (!retries.isEmpty() && retries.peek().retryAt - wake < 0) {
                wake = retries.peek().retryAt;
            }
            if (asked.isEmpty()) {
                LockSupport.parkNanos(this, Math.max(0, wake - System.nanoTime()));
            }
        }
        disconnect(true);
        Connected late = arrived.getAndSet(null);         // an attempt that ended as the keeper stopped
        if (late != null) {
            late.jedis().close();
        }
    }

    private void lease(List<LeasedBucket> due) {
        List<LeasedBucket> asking = new ArrayList<>(due.size());
        List<LeasedBucket.Shape> shapes = new ArrayList<>(due.size());
        List<Long> asks = new ArrayList<>(due.size());
        for (LeasedBucket bucket : due) {
            LeasedBucket.Shape shape = bucket.shape();      // one rate per ask, though a loop may change it meanwhile
            long wanted = bucket.wanted(shape);
            if (wanted > 0) {
                asking.add(bucket);
                shapes.add(shape);
                asks.add(wanted);
            }
        }
        if (asking.isEmpty()) {
            return;
        }
        long[][] results = jedis == null ? null : leaseFromRedis(asking, shapes, asks);
        long now = System.nanoTime();
        for (int i = 0; i < asking.size(); i++) {
            LeasedBucket bucket = asking.get(i);
            long ask = asks.get(i);
            if (results != null) {
                long share = Math.max(1, shapes.get(i).rate() / Math.max(1, results[i][2]));
                settle(bucket, ask, results[i][0], TimeUnit.MICROSECONDS.toNanos(results[i][1]), now, share);
            } else {
                leaseLocally(bucket, shapes.get(i), ask, now);
            }
        }
    }

    /**
     * {@return per bucket: bytes granted, microseconds to wait for the rest, and the remotes asking for the principal;
     * null when Redis failed}
     */
    private long[][] leaseFromRedis(List<LeasedBucket> asking, List<LeasedBucket.Shape> shapes, List<Long> asks) {
        for (int attempt = 0; ; attempt++) {
            try {
                List<Response<Object>> responses = new ArrayList<>(asking.size());
                try (Pipeline pipeline = jedis.pipelined()) {
                    for (int i = 0; i < asking.size(); i++) {
                        LeasedBucket.Shape shape = shapes.get(i);
                        String principal = asking.get(i).principal;
                        responses.add(pipeline.evalsha(leaseSha,
                                List.of(config.keyPrefix() + "bucket:" + principal,
                                        config.keyPrefix() + "askers:" + principal),
                                List.of(Long.toString(shape.rate()), Long.toString(shape.capacity()),
                                        Long.toString(asks.get(i)), remoteId)));
                    }
                }
                roundTrips.increment();
                long[][] results = new long[asking.size()][];
                for (int i = 0; i < responses.size(); i++) {
                    List<?> reply = (List<?>) responses.get(i).get();
                    results[i] = new long[] {(Long) reply.get(0), (Long) reply.get(1), (Long) reply.get(2)};
                }
                return results;
            } catch (JedisNoScriptException e) {
                if (attempt > 0 || !loadScripts()) {          // flushed, or Redis restarted between two calls
                    return null;
                }
            } catch (JedisException | ClassCastException | IndexOutOfBoundsException e) {
                wentAway(e);
                return null;
            }
        }
    }

    /**
     * While Redis is away: this remote's share of the rate, a GCRA over the local clock with 1 / remotes of the rate
     * and of the burst.
     */
    private void leaseLocally(LeasedBucket bucket, LeasedBucket.Shape shape, long ask, long now) {
        int share = Math.max(1, remotes);
        double nanosPerByte = 1e9 * share / shape.rate();
        long capacity = Math.max(shape.reservation(), shape.capacity() / share);
        long full = Math.max(bucket.fallbackFullAt, now);
        long granted = Math.max(0, Math.min(ask, (long) ((now + capacity * nanosPerByte - full) / nanosPerByte)));
        full += (long) Math.ceil(granted * nanosPerByte);
        bucket.fallbackFullAt = full;
        long wait = granted < ask ? (long) (full + (ask - granted - capacity) * nanosPerByte - now) : 0;
        settle(bucket, ask, granted, Math.max(0, wait), now, Math.max(1, shape.rate() / share));
    }

    /**
     * Credits a grant, sets the pace its waiters wait at, and schedules the next ask when the bucket still wants more.
     *
     * @param pace the rate this remote's leases can be counted on to come at: its share, the rate divided by the
     *             remotes asking for the principal (or by all remotes while Redis is away). Paced faster, waiters would
     *             read ahead of their leases into a debt that grows with the remotes; paced a little slow, a remote
     *             whose share is larger still gets it, from the lease its waiters find when they wake.
     */
    private void settle(LeasedBucket bucket, long ask, long granted, long waitNanos, long now, long pace) {
        bucket.credit(granted);
        bucket.pace(pace);
        if (granted < ask) {
            schedule(bucket, now + Math.min(waitNanos, SHORT_RETRY_NANOS));
        } else if (bucket.wanted() > 0) {
            schedule(bucket, now);                              // a debt larger than one ask: ask again at once
        }
    }

    private void schedule(LeasedBucket bucket, long at) {
        if (!bucket.retrying) {
            bucket.retrying = true;
            bucket.retryAt = at;
            retries.add(bucket);
        }
    }

    private void heartbeat() {
        if (jedis == null && !adoptConnection()) {
            return;
        }
        try {
            Object count = jedis.evalsha(heartbeatSha, List.of(remotesKey()),
                    List.of(remoteId, Long.toString(REMOTE_WINDOW_MILLIS)));
            roundTrips.increment();
            remotes = (int) Math.max(1, (Long) count);
        } catch (JedisNoScriptException e) {
            loadScripts();
        } catch (JedisException | ClassCastException e) {
            wentAway(e);
        }
    }

    /** A connection made by an attempt, its scripts loaded. */
    private record Connected(Jedis jedis, String leaseSha, String heartbeatSha) {
    }

    /**
     * Takes the connection an attempt made, if one did; otherwise notes a failed attempt and starts the next. The
     * attempts run on a thread of their own: a Redis that drops packets holds one for {@code timeout}, and this thread
     * meanwhile goes on leasing locally.
     *
     * @return whether a connection is there now
     */
    private boolean adoptConnection() {
        Exception failure = failedAttempt.getAndSet(null);
        if (failure != null) {
            wentAway(failure);
            return false;                               // the next try at the next heartbeat, a second later
        }
        Connected connected = arrived.getAndSet(null);
        if (connected == null) {
            if (!connecting) {
                connecting = true;
                Thread attempt = new Thread(this::attempt, "relaygate-redis-connect");
                attempt.setDaemon(true);
                attempt.start();
            }
            return false;
        }
        jedis = connected.jedis();
        leaseSha = connected.leaseSha();
        heartbeatSha = connected.heartbeatSha();
        if (away) {
            log.info("Redis at {} answers again: users' rates hold across the cluster again", config.label());
        } else {
            log.info("rates shared through Redis at {}", config.label());
        }
        away = false;
        clustered = true;
        return true;
    }

    /** One connection attempt, on its own thread: connect, authenticate, load the scripts. */
    private void attempt() {
        int timeout = (int) config.timeout().toMillis();
        DefaultJedisClientConfig.Builder client = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeout).socketTimeoutMillis(timeout).database(config.database())
                .clientName("relaygate-leases");
        if (config.password() != null) {
            client.password(config.password());
        }
        Jedis made = null;
        try {
            made = new Jedis(new HostAndPort(config.host(), config.port()), client.build());
            Connected connected = new Connected(made, made.scriptLoad(leaseScript), made.scriptLoad(heartbeatScript));
            roundTrips.add(2);
            if (running) {
                arrived.set(connected);
                made = null;
            }
        } catch (JedisException e) {                    // refused, timed out, AUTH failed
            failedAttempt.set(e);
        } finally {
            if (made != null) {
                made.close();
            }
            connecting = false;
            LockSupport.unpark(thread);
        }
    }

    private boolean loadScripts() {
        try {
            leaseSha = jedis.scriptLoad(leaseScript);
            heartbeatSha = jedis.scriptLoad(heartbeatScript);
            roundTrips.add(2);
            return true;
        } catch (JedisException e) {
            wentAway(e);
            return false;
        }
    }

    private void wentAway(Exception e) {
        disconnect(false);
        clustered = false;
        if (!away) {
            away = true;
            log.warn("Redis at {} is unreachable ({}): until it answers, this remote limits each user to 1/{} of "
                    + "their rate", config.label(), e.getMessage(), remotes);
        } else {
            log.debug("Redis at {} still unreachable: {}", config.label(), e.getMessage());
        }
    }

    private void disconnect(boolean leaving) {
        if (jedis == null) {
            return;
        }
        try {
            if (leaving) {
                jedis.zrem(remotesKey(), remoteId);         // the others' fallback shares no longer count this one
            }
        } catch (JedisException e) {
            log.debug("could not leave the remotes' set: {}", e.getMessage());
        }
        try {
            jedis.close();
        } catch (JedisException e) {
            log.debug("closing the Redis connection: {}", e.getMessage());
        }
        jedis = null;
    }

    private String remotesKey() {
        return config.keyPrefix() + "remotes";
    }

    /** Stops the thread, leaves the remotes' set and closes the connection, waiting at most a few timeouts. */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(config.timeout().toMillis() * 4 + 1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String script(String name) {
        try (InputStream in = LeaseKeeper.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
