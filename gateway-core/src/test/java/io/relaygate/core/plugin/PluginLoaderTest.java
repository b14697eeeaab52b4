package io.relaygate.core.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.ProtocolFactory;
import io.relaygate.testkit.PluginJars;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Discovery from the plugins directory, each plugin in a class loader that shares only the SPI. */
class PluginLoaderTest {

    @TempDir
    Path plugins;

    @Test
    void aBareJarAndAPluginDirectoryAreBothLoadedInTheirOwnLoaders() {
        PluginJars.build(plugins.resolve("bang.jar"), "example.bang.BangPlugin", PluginJars.BANG_PLUGIN);
        PluginJars.build(plugins.resolve("other/other.jar"), "example.bang.BangPlugin",
                PluginJars.BANG_PLUGIN.replace("return \"bang\"", "return \"other\""));
        List<LoadedPlugin> loaded = PluginLoader.load(plugins);
        assertThat(loaded).extracting(p -> p.plugin().name()).containsExactly("bang", "other");
        GatewayPlugin bang = loaded.get(0).plugin();
        GatewayPlugin other = loaded.get(1).plugin();
        assertThat(bang.getClass().getClassLoader()).isInstanceOf(PluginClassLoader.class)
                .isNotSameAs(other.getClass().getClassLoader());
        // Same class name, different loaders: isolated. The SPI type is the host's own.
        assertThat(bang.getClass()).isNotSameAs(other.getClass());
        assertThat(bang).isInstanceOf(GatewayPlugin.class);
        assertThat(bang.protocols()).extracting(ProtocolFactory::name).containsExactly("bang");
        assertThat(bang.version()).isEqualTo("9.9");
        assertThat(loaded.get(0).contributions()).containsExactly("protocol bang");
        assertThat(loaded.get(1).source()).endsWith("other");
    }

    @Test
    void aMissingDirectoryHoldsNoPlugins() {
        assertThat(PluginLoader.load(plugins.resolve("absent"))).isEmpty();
    }

    @Test
    void twoPluginsWithOneNameAreRefused() {
        PluginJars.build(plugins.resolve("a.jar"), "example.bang.BangPlugin", PluginJars.BANG_PLUGIN);
        PluginJars.build(plugins.resolve("b.jar"), "example.bang.BangPlugin", PluginJars.BANG_PLUGIN);
        assertThatThrownBy(() -> PluginLoader.load(plugins)).isInstanceOf(PluginException.class)
                .hasMessageContaining("two plugins are named bang");
    }

    @Test
    void aBrokenServiceEntryIsOneClearError() throws Exception {
        PluginJars.build(plugins.resolve("bang.jar"), "example.bang.BangPlugin", PluginJars.BANG_PLUGIN);
        Path broken = plugins.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(plugins.resolve("bang.jar"), broken.resolve("bang.jar"));
        Files.delete(plugins.resolve("bang.jar"));
        try (var fs = java.nio.file.FileSystems.newFileSystem(broken.resolve("bang.jar"))) {
            Files.writeString(fs.getPath("META-INF/services/io.relaygate.spi.GatewayPlugin"), "example.Missing\n");
        }
        assertThatThrownBy(() -> PluginLoader.load(plugins)).isInstanceOf(PluginException.class)
                .hasMessageContaining("broken");
    }
}
