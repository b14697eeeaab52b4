package io.relaygate.testkit;

import io.relaygate.spi.Account;
import io.relaygate.spi.AccountChange;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreFactory;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.PluginConfig;
import io.relaygate.spi.ScramCredential;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A test plugin: an account store in memory, named {@code memory}. Users come from its config key {@code users}
 * ({@code alice:secret,bob:pw:disabled}) and from {@link #put}. A low iteration count keeps tests fast.
 */
public final class MemoryAccounts implements GatewayPlugin, AccountStoreFactory, AccountStore {

    private final int iterations;

    private final Map<String, Account> accounts = new ConcurrentHashMap<>();
    private final AtomicInteger lookups = new AtomicInteger();
    private final List<Consumer<AccountChange>> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, long[]> traffic = new ConcurrentHashMap<>();
    /** Traffic by "user/epochDay". */
    private final Map<String, long[]> byDay = new ConcurrentHashMap<>();
    /** Sticky public ports: "user/service" → port. */
    private final Map<String, Integer> ports = new ConcurrentHashMap<>();

    /** A store whose credentials use 64 PBKDF2 iterations: fast tests. */
    public MemoryAccounts() {
        this(64);
    }

    /** A store whose credentials use {@code iterations} PBKDF2 iterations. */
    public MemoryAccounts(int iterations) {
        this.iterations = iterations;
    }

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public List<AccountStoreFactory> accountStores() {
        return List.of(this);
    }

    @Override
    public AccountStore create(PluginConfig config, GatewayContext context) {
        String users = config.getString("users", "");
        for (String entry : users.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            // name:password, name:password:disabled or name:password:RATE (bytes per second)
            String[] parts = entry.trim().split(":");
            boolean disabled = parts.length == 3 && parts[2].equals("disabled");
            put(parts[0], parts[1], !disabled);
            if (parts.length == 3 && !disabled) {
                rate(parts[0], Long.parseLong(parts[2]));
            }
        }
        return this;
    }

    /** Adds or replaces a user. Thread-safe. */
    public MemoryAccounts put(String name, String password, boolean enabled) {
        ScramCredential credential = ScramCredential.create(password.getBytes(StandardCharsets.UTF_8), iterations,
                new SecureRandom());
        accounts.put(name, Account.create(name, credential, enabled, AccountLimits.NONE));
        return this;
    }

    /** Changes a user's rate and tells the listeners, as a store's change feed would. Thread-safe. */
    public void rate(String name, long bytesPerSecond) {
        limits(name, l -> l.withRate(bytesPerSecond));
    }

    /** Sets how many public ports a user may hold and tells the listeners. Thread-safe. */
    public MemoryAccounts exposePorts(String name, int count) {
        return limits(name, l -> l.withExposePorts(count));
    }

    /** Changes a user's limits and tells the listeners, as a store's change feed would. Thread-safe. */
    public MemoryAccounts limits(String name, java.util.function.UnaryOperator<AccountLimits> change) {
        Account changed = accounts.computeIfPresent(name, (k, old) -> new Account(name, old.credential(),
                old.enabled(), old.created(), java.time.Instant.now(), old.bytesUp(), old.bytesDown(),
                change.apply(old.limits())));
        listeners.forEach(l -> l.accept(new AccountChange(AccountChange.Kind.UPDATED, name, changed)));
        return this;
    }

    @Override
    public Optional<Integer> assignedPort(String user, String service) {
        return Optional.ofNullable(ports.get(user + "/" + service));
    }

    @Override
    public synchronized void assignPort(String user, String service, int port) {
        ports.values().removeIf(p -> p == port);
        ports.put(user + "/" + service, port);
    }

    /** Disables a user and tells the listeners, as a store's change feed would. */
    public void disable(String name) {
        Account old = accounts.get(name);
        Account disabled = new Account(name, old.credential(), false, old.created(), java.time.Instant.now(),
                old.bytesUp(), old.bytesDown(), old.limits());
        accounts.put(name, disabled);
        listeners.forEach(l -> l.accept(new AccountChange(AccountChange.Kind.UPDATED, name, disabled)));
    }

    @Override
    public List<Account> list() {
        return accounts.values().stream().sorted(java.util.Comparator.comparing(Account::name)).toList();
    }

    @Override
    public Account create(Account account) {
        if (accounts.putIfAbsent(account.name(), account) != null) {
            throw new io.relaygate.spi.AccountExistsException(account.name());
        }
        listeners.forEach(l -> l.accept(new AccountChange(AccountChange.Kind.CREATED, account.name(), account)));
        return account;
    }

    @Override
    public Optional<Account> update(String name, io.relaygate.spi.AccountUpdate update) {
        Account changed = accounts.computeIfPresent(name, (k, old) -> new Account(name,
                update.credential() != null ? update.credential() : old.credential(),
                update.enabled() != null ? update.enabled() : old.enabled(), old.created(),
                java.time.Instant.now(), old.bytesUp(), old.bytesDown(), update.applyTo(old.limits())));
        if (changed != null) {
            listeners.forEach(l -> l.accept(new AccountChange(AccountChange.Kind.UPDATED, name, changed)));
        }
        return Optional.ofNullable(changed);
    }

    @Override
    public boolean delete(String name) {
        boolean existed = accounts.remove(name) != null;
        ports.keySet().removeIf(key -> key.startsWith(name + "/"));
        if (existed) {
            listeners.forEach(l -> l.accept(new AccountChange(AccountChange.Kind.DELETED, name, null)));
        }
        return existed;
    }

    @Override
    public void addListener(Consumer<AccountChange> listener) {
        listeners.add(listener);
    }

    @Override
    public void addTraffic(java.time.LocalDate day, Map<String, long[]> increments) {
        increments.forEach((user, bytes) -> {
            traffic.merge(user, bytes.clone(), (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
            byDay.merge(user + "/" + day.toEpochDay(), bytes.clone(), (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        });
    }

    @Override
    public long[] traffic(String user, java.time.LocalDate since) {
        long[] sum = new long[2];
        byDay.forEach((key, bytes) -> {
            int slash = key.lastIndexOf('/');
            if (key.substring(0, slash).equals(user) && Long.parseLong(key.substring(slash + 1)) >= since.toEpochDay()) {
                sum[0] += bytes[0];
                sum[1] += bytes[1];
            }
        });
        return sum;
    }

    /** {@return the traffic persisted for {@code user}: {up, down}} */
    public long[] traffic(String user) {
        return traffic.getOrDefault(user, new long[2]).clone();
    }

    @Override
    public Optional<Account> find(String name) {
        lookups.incrementAndGet();
        return Optional.ofNullable(accounts.get(name));
    }

    /** {@return how often the store was asked} */
    public int lookups() {
        return lookups.get();
    }
}
