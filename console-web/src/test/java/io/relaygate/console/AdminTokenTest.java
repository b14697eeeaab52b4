package io.relaygate.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.core.Gateway;
import io.relaygate.core.config.ConfigError;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.config.YamlSettings;
import io.relaygate.socks5.Socks5Plugin;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The admin token is checked at start: a token nobody could send is an error naming its file, line and key. */
class AdminTokenTest {

    @TempDir
    Path work;

    @ParameterizedTest
    @ValueSource(strings = {"\"                    \"", "\"short\"", "\"sixteen chars ok but spaces\"",
        "\"tab\\tinside-the-token-0123\"", "\"ünicode-token-0123456789\""})
    void aConfiguredTokenThatCannotBeSentIsRefusedWithFileLineAndKey(String token) throws Exception {
        Path file = work.resolve("gateway.yaml");
        Files.writeString(file, "console: 127.0.0.1:0\ndataDir: " + work.resolve("data") + "\nplugins:\n  console:\n"
                + "    token: " + token + "\n");
        GatewayConfig config = GatewayConfig.from(YamlSettings.load(file, file.toString()), work);
        assertThatThrownBy(() -> Gateway.builder(config).plugins(List.of(new Socks5Plugin(), new ConsolePlugin()))
                .start().close())
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining(file + ":5")
                .hasMessageContaining("plugins.console.token")
                .hasMessageContaining("expected");
    }

    @Test
    void aSavedTokenFileWithOnlyWhitespaceIsRefusedNamingTheFile() throws Exception {
        Path data = Files.createDirectories(work.resolve("data"));
        Files.writeString(data.resolve(AdminToken.FILE), "   \n\t \n");
        assertThatThrownBy(() -> AdminToken.load(null, data)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining(data.resolve(AdminToken.FILE).toString()).hasMessageContaining("too short");
    }

    @Test
    void aGoodTokenAuthorizesOnlyItself() {
        AdminToken token = AdminToken.load("good-token-0123456789", work);
        assertThat(token.authorizes("Bearer good-token-0123456789")).isTrue();
        assertThat(token.authorizes("Bearer good-token-012345678")).isFalse();
        assertThat(AdminToken.problem("good-token-0123456789")).isNull();
    }
}
