package io.relaygate.authpostgres;

import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreFactory;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.PluginConfig;
import java.util.List;

/**
 * Offers the account store {@code postgres}, configured under {@code plugins.postgres}: {@code url} (a JDBC URL,
 * required), {@code user}, {@code password}, {@code poolSize} (default 4) and {@code connectTimeout} (default 5s).
 * Several remotes pointing at one database share their accounts, counters and sticky ports.
 */
public final class PostgresAuthPlugin implements GatewayPlugin {

    /** Required by {@link java.util.ServiceLoader}. */
    public PostgresAuthPlugin() {
    }

    @Override
    public String name() {
        return "auth-postgres";
    }

    @Override
    public List<AccountStoreFactory> accountStores() {
        return List.of(new Factory());
    }

    /** {@code accountStore: postgres}, configured by {@code plugins.postgres}. */
    private static final class Factory implements AccountStoreFactory {
        @Override
        public String name() {
            return "postgres";
        }

        @Override
        public AccountStore create(PluginConfig config, GatewayContext context) {
            return PostgresAccountStore.open(PostgresConfig.from(config));
        }
    }
}
