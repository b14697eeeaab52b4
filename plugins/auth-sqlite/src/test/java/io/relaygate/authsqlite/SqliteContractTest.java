package io.relaygate.authsqlite;

import io.relaygate.accountjdbc.AccountStoreContract;
import io.relaygate.spi.AccountStore;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;

/** The account-store contract against a real SQLite file; each store is another pool on it, as another process. */
class SqliteContractTest extends AccountStoreContract {

    @TempDir
    Path dir;

    @Override
    protected AccountStore newStore() {
        return SqliteAccountStore.open(new SqliteConfig(dir.resolve("gateway.db"), Duration.ofSeconds(10), 4,
                Duration.ofMillis(50)));
    }
}
