package io.relaygate.benchmarks;

import io.relaygate.authpostgres.PostgresAuthPlugin;
import io.relaygate.authsqlite.SqliteAuthPlugin;
import io.relaygate.core.config.SectionConfig;
import io.relaygate.core.config.Settings;
import io.relaygate.spi.Account;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreFactory;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.ScramCredential;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The store's part of a login: {@link AccountStore#find} of one user, on SQLite (a file in a temporary directory) and
 * on the machine's PostgreSQL ({@code RELAYGATE_BENCH_POSTGRES_URL}, default {@code jdbc:postgresql://127.0.0.1:5432/test}
 * as {@code postgres}, in a schema of its own). The rest of a login (SCRAM, or PBKDF2 for a password login) costs the
 * same on either store.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AccountLookupBenchmark {

    private static final String POSTGRES = System.getenv().getOrDefault("RELAYGATE_BENCH_POSTGRES_URL",
            "jdbc:postgresql://127.0.0.1:5432/test");

    @Param({"sqlite", "postgres"})
    public String store;

    private AccountStore accounts;
    private Path dir;
    private String schema;

    @Setup(Level.Trial)
    public void open() throws Exception {
        dir = Files.createTempDirectory("relaygate-bench");
        Settings settings = Settings.empty();
        GatewayPlugin plugin;
        if (store.equals("postgres")) {
            schema = "relaygate_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            try (Connection c = DriverManager.getConnection(POSTGRES, "postgres", null);
                 Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA " + schema);
            }
            settings = settings.with("plugins.postgres.url", POSTGRES + "?currentSchema=" + schema, "bench")
                    .with("plugins.postgres.user", "postgres", "bench");
            plugin = new PostgresAuthPlugin();
        } else {
            plugin = new SqliteAuthPlugin();
        }
        AccountStoreFactory factory = plugin.accountStores().get(0);
        accounts = factory.create(new SectionConfig(settings, "plugins." + store), new GatewayContext() {
            @Override
            public Role role() {
                return Role.REMOTE;
            }

            @Override
            public Path dataDir() {
                return dir;
            }

            @Override
            public Executor blockingExecutor() {
                return Runnable::run;
            }
        });
        ScramCredential credential = ScramCredential.create("pw".getBytes(StandardCharsets.UTF_8), 4096,
                new SecureRandom());
        accounts.create(Account.create("alice", credential, true, AccountLimits.NONE));
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        accounts.close();
        if (schema != null) {
            try (Connection c = DriverManager.getConnection(POSTGRES, "postgres", null);
                 Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    @Benchmark
    @Threads(1)
    public Optional<Account> find() {
        return accounts.find("alice");
    }

    @Benchmark
    @Threads(4)
    public Optional<Account> findFourThreads() {
        return accounts.find("alice");
    }
}
