package io.relaygate.authsqlite;

import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreFactory;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.PluginConfig;
import java.util.List;

/** Offers the account store {@code sqlite}, configured under {@code plugins.sqlite}. */
public final class SqliteAuthPlugin implements GatewayPlugin {

    /** Required by {@link java.util.ServiceLoader}. */
    public SqliteAuthPlugin() {
    }

    @Override
    public String name() {
        return "auth-sqlite";
    }

    @Override
    public List<AccountStoreFactory> accountStores() {
        return List.of(new Factory());
    }

    /** {@code accountStore: sqlite}, configured by {@code plugins.sqlite}. */
    private static final class Factory implements AccountStoreFactory {
        @Override
        public String name() {
            return "sqlite";
        }

        @Override
        public AccountStore create(PluginConfig config, GatewayContext context) {
            return SqliteAccountStore.open(SqliteConfig.from(config, context.dataDir()));
        }
    }
}
