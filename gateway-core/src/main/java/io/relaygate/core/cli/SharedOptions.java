package io.relaygate.core.cli;

import io.relaygate.core.config.ConfigError;
import io.relaygate.core.config.Settings;
import io.relaygate.core.config.YamlSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command that reads the configuration shares: the file and the two directories. */
final class SharedOptions {

    @Option(names = "--config", paramLabel = "FILE",
            description = "the configuration file (default: <install>/conf/gateway.yaml when present)")
    Path configFile;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "account store, admin token, saved settings"
            + " (default: <install>/data)")
    Path dataDir;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "plugin directories and jars"
            + " (default: <install>/plugins)")
    Path pluginsDir;

    /** {@return the configuration file's settings (or none), overridden by these options' flags} */
    Settings settings() {
        Settings settings = Settings.empty();
        if (configFile != null) {
            if (!Files.isRegularFile(configFile)) {
                throw new ConfigError("--config=" + configFile + ": no such file");
            }
            settings = YamlSettings.load(configFile, configFile.toString());
        } else {
            Path defaultFile = Main.home().resolve("conf/gateway.yaml");
            if (Files.isRegularFile(defaultFile)) {
                settings = YamlSettings.load(defaultFile, defaultFile.toString());
            }
        }
        settings = flag(settings, "dataDir", "--data-dir", dataDir == null ? null : dataDir.toAbsolutePath().toString());
        return flag(settings, "pluginsDir", "--plugins-dir",
                pluginsDir == null ? null : pluginsDir.toAbsolutePath().toString());
    }

    static Settings flag(Settings settings, String key, String flag, String value) {
        return value == null ? settings : settings.with(key, value, flag);
    }
}
