package io.relaygate.core.plugin;

import io.relaygate.spi.GatewayPlugin;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds plugins on the class path and in the plugins directory: each {@code plugins/<name>/} directory (the
 * plugin's jar and its own dependencies) and each bare {@code plugins/*.jar} loads in its own
 * {@link PluginClassLoader}.
 */
public final class PluginLoader {

    private static final Logger log = LoggerFactory.getLogger(PluginLoader.class);

    private PluginLoader() {
    }

    /**
     * Discovers every plugin.
     *
     * @param pluginsDir the plugins directory; a missing directory holds no plugins
     * @return the plugins, class path first, then the directory's entries in name order
     * @throws PluginException if a plugin cannot be loaded or two plugins share a name
     */
    public static List<LoadedPlugin> load(Path pluginsDir) {
        List<LoadedPlugin> plugins = new ArrayList<>();
        ClassLoader host = PluginLoader.class.getClassLoader();
        try {
            for (GatewayPlugin plugin : ServiceLoader.load(GatewayPlugin.class, host)) {
                plugins.add(new LoadedPlugin(plugin, "class path (" + location(plugin.getClass()) + ")"));
            }
        } catch (ServiceConfigurationError e) {
            throw new PluginException("cannot load a plugin from the class path: " + e.getMessage(), e);
        }
        if (Files.isDirectory(pluginsDir)) {
            for (Path entry : entries(pluginsDir)) {
                plugins.addAll(loadEntry(entry, host));
            }
        } else {
            log.debug("no plugins directory at {}", pluginsDir);
        }
        Map<String, LoadedPlugin> byName = new HashMap<>();
        for (LoadedPlugin p : plugins) {
            LoadedPlugin previous = byName.put(p.plugin().name(), p);
            if (previous != null) {
                throw new PluginException("two plugins are named " + p.plugin().name() + ": " + previous.source()
                        + " and " + p.source(), null);
            }
        }
        return List.copyOf(plugins);
    }

    private static List<Path> entries(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> Files.isDirectory(p) || p.getFileName().toString().endsWith(".jar"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new PluginException("cannot list the plugins directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private static List<LoadedPlugin> loadEntry(Path entry, ClassLoader host) {
        List<Path> jars;
        if (Files.isDirectory(entry)) {
            try (Stream<Path> list = Files.list(entry)) {
                jars = list.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
            } catch (IOException e) {
                throw new PluginException("cannot list " + entry + ": " + e.getMessage(), e);
            }
        } else {
            jars = List.of(entry);
        }
        if (jars.isEmpty()) {
            return List.of();
        }
        URL[] urls = new URL[jars.size()];
        for (int i = 0; i < urls.length; i++) {
            try {
                urls[i] = jars.get(i).toUri().toURL();
            } catch (MalformedURLException e) {
                throw new PluginException("bad plugin path " + jars.get(i), e);
            }
        }
        PluginClassLoader loader = new PluginClassLoader("plugin " + entry.getFileName(), urls, host);
        List<LoadedPlugin> found = new ArrayList<>();
        try {
            ServiceLoader.load(GatewayPlugin.class, loader).stream()
                    .filter(provider -> provider.type().getClassLoader() == loader)
                    .forEach(provider -> found.add(new LoadedPlugin(provider.get(), entry.toString())));
        } catch (ServiceConfigurationError | LinkageError e) {
            throw new PluginException("cannot load the plugin in " + entry + ": " + e.getMessage(), e);
        }
        if (found.isEmpty()) {
            log.warn("{} holds no Relaygate plugin (no META-INF/services/{})", entry, GatewayPlugin.class.getName());
        }
        return found;
    }

    private static String location(Class<?> type) {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            return "unknown";
        }
        try {
            return Path.of(source.getLocation().toURI()).getFileName().toString();
        } catch (Exception e) {
            return source.getLocation().toString();
        }
    }
}
