package io.relaygate.core.cli;

import io.relaygate.core.Gateway;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.plugin.LoadedPlugin;
import io.relaygate.core.plugin.PluginLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code gateway config}: the configuration file. */
@Command(name = "config", mixinStandardHelpOptions = true, description = "The configuration file.",
        subcommands = ConfigCommand.Check.class)
final class ConfigCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.err.println("gateway config: a subcommand is required (see gateway config --help)");
        return ExitCodes.USAGE;
    }

    /**
     * {@code gateway config check}: validates the file as the gateway would at start (syntax, every core key and its
     * range, what the role requires), without opening anything. Exits 0, or 2 with {@code FILE:LINE: key: what is
     * wrong (expected: …)}. A plugin's own section ({@code plugins.<name>}) is checked by the plugin when the gateway
     * starts.
     */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Validate the configuration file (default: <install>/conf/gateway.yaml); exit 0, or 2 with"
                    + " FILE:LINE and what is expected.")
    static final class Check implements Callable<Integer> {

        @Mixin
        SharedOptions shared = new SharedOptions();

        @Override
        public Integer call() {
            GatewayConfig config = GatewayConfig.from(shared.settings(), Main.home());
            Gateway.checkPluginSections(config, PluginLoader.load(config.pluginsDir()).stream()
                    .map(LoadedPlugin::plugin).toList());
            String file = shared.configFile != null ? shared.configFile.toString()
                    : Main.home().resolve("conf/gateway.yaml").toString();
            System.out.println(file + ": valid (role " + config.role().name().toLowerCase(java.util.Locale.ROOT)
                    + ")");
            return ExitCodes.OK;
        }
    }
}
