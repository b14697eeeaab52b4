package io.relaygate.core;

import io.relaygate.core.config.ConfigError;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.config.SectionConfig;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreFactory;
import io.relaygate.spi.ConfigException;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import java.util.ArrayList;
import java.util.List;

/** Opens the account store a configuration names, for the gateway and for {@code gateway user}. */
public final class AccountStores {

    private AccountStores() {
    }

    /**
     * Opens the store called {@code name}, configured from its section {@code plugins.<name>}.
     *
     * @throws ConfigError    if no plugin offers it or its section is invalid
     * @throws StartException if it cannot be opened (the message is one line for the user)
     */
    public static AccountStore open(String name, GatewayConfig config, List<GatewayPlugin> plugins,
                                    GatewayContext context) {
        List<String> found = new ArrayList<>();
        for (GatewayPlugin plugin : plugins) {
            for (AccountStoreFactory factory : plugin.accountStores()) {
                found.add(factory.name());
                if (factory.name().equals(name)) {
                    SectionConfig section = new SectionConfig(config.settings(), GatewayConfig.PLUGINS + "." + name);
                    try {
                        AccountStore store = factory.create(section, context);
                        section.requireAllConsumed();
                        return store;
                    } catch (ConfigException e) {
                        throw ConfigError.of(e, config.settings());
                    } catch (IllegalStateException e) {
                        throw new StartException("account store " + name + ": " + e.getMessage(), e);
                    }
                }
            }
        }
        throw ConfigError.of(new ConfigException("accountStore", "\"" + name + "\" (expected: none, or an"
                + " account-store plugin's name; found: " + (found.isEmpty() ? "none" : String.join(", ", found))
                + ")"), config.settings());
    }
}
