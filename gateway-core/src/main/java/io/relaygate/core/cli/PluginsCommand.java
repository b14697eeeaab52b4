package io.relaygate.core.cli;

import io.relaygate.core.plugin.LoadedPlugin;
import io.relaygate.core.plugin.PluginLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gateway plugins}: lists every plugin found, its kind, version and jar. */
@Command(name = "plugins", mixinStandardHelpOptions = true,
        description = "List the plugins found on the class path and in the plugins directory.")
final class PluginsCommand implements Callable<Integer> {

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "plugin directories and jars"
            + " (default: <install>/plugins)")
    Path pluginsDir;

    @Override
    public Integer call() {
        Path dir = pluginsDir != null ? pluginsDir.toAbsolutePath() : Main.home().resolve("plugins");
        List<LoadedPlugin> plugins = PluginLoader.load(dir);
        Table table = new Table("PLUGIN", "VERSION", "PROVIDES", "FROM");
        for (LoadedPlugin p : plugins) {
            table.row(p.plugin().name(), p.plugin().version(), String.join(", ", p.contributions()), p.source());
        }
        table.print(System.out);
        if (plugins.isEmpty()) {
            System.out.println("(no plugins in " + dir + ")");
        }
        return ExitCodes.OK;
    }
}
