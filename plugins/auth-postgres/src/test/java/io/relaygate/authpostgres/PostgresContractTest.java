package io.relaygate.authpostgres;

import io.relaygate.accountjdbc.AccountStoreContract;
import io.relaygate.spi.AccountStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** The account-store contract against the real PostgreSQL, in a schema of its own; each store is another pool. */
class PostgresContractTest extends AccountStoreContract {

    private TestDatabase database;

    @BeforeEach
    void createSchema() throws Exception {
        database = new TestDatabase();
    }

    @AfterEach
    void dropSchema() throws Exception {
        database.close();
    }

    @Override
    protected AccountStore newStore() {
        return PostgresAccountStore.open(database.config());
    }
}
