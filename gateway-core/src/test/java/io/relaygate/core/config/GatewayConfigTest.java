package io.relaygate.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.spi.GatewayContext.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration: embedded defaults, YAML, flags, and errors that name the file, line, key and expectation. */
class GatewayConfigTest {

    @TempDir
    Path dir;

    private Path yaml(String text) throws IOException {
        Path file = dir.resolve("gateway.yaml");
        Files.writeString(file, text);
        return file;
    }

    private GatewayConfig load(String text) throws IOException {
        Path file = yaml(text);
        return GatewayConfig.from(YamlSettings.load(file, "gateway.yaml"), dir);
    }

    @Test
    void eachRoleCarriesOnlyItsOwnSettings() throws IOException {
        GatewayConfig remote = load("role: remote\ndirectListen: 127.0.0.1:0\nallowDestination: 127.0.0.1/32\n");
        assertThat(remote.role()).isEqualTo(Role.REMOTE);
        assertThat(remote.roleConfig()).isInstanceOf(GatewayConfig.RemoteConfig.class);
        assertThat(remote.remoteRole().allowDestinations()).hasSize(1);
        assertThatThrownBy(remote::local).isInstanceOf(IllegalStateException.class);
        GatewayConfig local = load("remote: 127.0.0.1:7080\nuser: alice\nlinkPool: 2\nlinkTls:\n  mode: off\n");
        assertThat(local.role()).isEqualTo(Role.LOCAL);
        assertThat(local.local().linkPool()).isEqualTo(2);
        assertThat(local.local().remote()).isEqualTo(new HostPort("127.0.0.1", 7080));
        assertThatThrownBy(local::remoteRole).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aValueWhereASectionBelongsIsNamedAsSuch() {
        assertThatThrownBy(() -> load("role: local\ntimeouts: 5s\n")).isInstanceOf(ConfigError.class)
                .hasMessageStartingWith("gateway.yaml:2: timeouts: \"5s\" (expected: a section of keys such as")
                .hasMessageContaining("not a value");
    }

    @Test
    void aStreamWindowThatMayNotGrowToItsStartIsRefused() throws IOException {
        assertThat(load("limits:\n  streamWindow: 1MiB\n  streamWindowMax: 1MiB\n").limits().streamWindowMax())
                .isEqualTo(1 << 20);
        assertThatThrownBy(() -> load("limits:\n  streamWindow: 1MiB\n  streamWindowMax: 512KiB\n"))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("limits.streamWindowMax: 524288 bytes (expected: at least limits.streamWindow,"
                        + " 1048576 bytes)");
    }

    @Test
    void exposedServicesComeFromAListOfSectionsAndThePoolFromRanges() throws IOException {
        GatewayConfig local = load("""
                remote: 127.0.0.1:7080
                user: alice
                remoteFingerprint: first-use
                expose:
                  - name: web
                    target: 127.0.0.1:8080
                  - name: ssh
                    target: 127.0.0.1:22
                    remotePort: 60022
                    allowFrom: [198.51.100.0/24, 203.0.113.7]
                    maxVisitors: 64
                    proxyProtocol: v2
                """);
        assertThat(local.local().exposed()).extracting(ReverseConfig.Exposed::name).containsExactly("web", "ssh");
        ReverseConfig.Exposed ssh = local.local().exposed().get(1);
        assertThat(ssh.target()).isEqualTo(new HostPort("127.0.0.1", 22));
        assertThat(ssh.remotePort()).isEqualTo(60022);
        assertThat(ssh.allowFrom()).hasSize(2);
        assertThat(ssh.maxVisitors()).isEqualTo(64);
        assertThat(ssh.proxyProtocol()).isTrue();
        assertThat(local.local().exposed().get(0).proxyProtocol()).isFalse();

        GatewayConfig remote = load("role: remote\nreverse:\n  ports: 60000-60099, 61000\n  holdFor: 5m\n");
        assertThat(remote.remoteRole().reverse().ports().cardinality()).isEqualTo(101);
        assertThat(remote.remoteRole().reverse().contains(61000)).isTrue();
        assertThat(remote.remoteRole().reverse().contains(60100)).isFalse();
        assertThat(remote.remoteRole().reverse().bind()).isEqualTo("0.0.0.0");
        assertThat(remote.remoteRole().reverse().holdFor()).isEqualTo(Duration.ofMinutes(5));
        assertThat(load("role: remote\n").remoteRole().reverse().enabled()).as("off by default").isFalse();
    }

    @Test
    void badExposedServicesAndPoolsNameTheKey() {
        String head = "remote: 127.0.0.1:7080\nuser: alice\nremoteFingerprint: first-use\nexpose:\n";
        assertThatThrownBy(() -> load(head + "  - name: a/b\n    target: 127.0.0.1:1\n"))
                .hasMessageContaining("expose.0.name: \"a/b\" (expected: 1 to 64 of");
        assertThatThrownBy(() -> load(head + "  - name: a\n    target: x\n"))
                .hasMessageContaining("expose.0.target: \"x\" (expected: HOST:PORT");
        assertThatThrownBy(() -> load(head + "  - name: a\n    target: h:1\n  - name: a\n    target: h:2\n"))
                .hasMessageContaining("expose.1.name: \"a\" (expected: a name no other exposed service has)");
        assertThatThrownBy(() -> load(head + "  - name: a\n    target: h:1\n    proxyProtocol: v1\n"))
                .hasMessageContaining("expose.0.proxyProtocol");
        assertThatThrownBy(() -> load(head + "  - name: a\n    target: h:1\n    colour: red\n"))
                .hasMessageContaining("expose.0.colour: unknown key");
        assertThatThrownBy(() -> load("expose:\n  - name: a\n    target: h:1\n"))
                .hasMessageContaining("expose: only for a local with --remote");
        assertThatThrownBy(() -> load("role: remote\nreverse:\n  ports: 60000-59000\n"))
                .hasMessageContaining("reverse.ports: \"60000-59000\" (expected: ports and ranges");
        assertThatThrownBy(() -> load("role: remote\nreverse:\n  ports: 1-70000\n"))
                .hasMessageContaining("reverse.ports");
        assertThatThrownBy(() -> load("role: remote\nreverse:\n  bind: example.com\n"))
                .hasMessageContaining("reverse.bind: \"example.com\" (expected: an IP address");
        assertThatThrownBy(() -> load("reverse:\n  ports: 60000\n")).hasMessageContaining("only for the remote");
    }

    @Test
    void embeddedDefaultsNeedNoFile() {
        GatewayConfig config = GatewayConfig.from(Settings.empty(), dir);
        assertThat(config.role()).isEqualTo(Role.LOCAL);
        assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 1080));
        assertThat(config.console()).isEqualTo(new HostPort("127.0.0.1", 8081));
        assertThat(config.local().remote()).isNull();
        assertThat(config.accountStore()).isNull();
        assertThat(config.dataDir()).isEqualTo(dir.resolve("data"));
        assertThat(config.timeouts().handshake()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.timeouts().connect()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.timeouts().dns()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.timeouts().idle()).isEqualTo(Duration.ofMinutes(15));
        assertThat(config.timeouts().halfClosed()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.timeouts().drain()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.timeouts().idleLink()).isEqualTo(Duration.ofMinutes(10));
        assertThat(config.limits().maxLinksPerUser()).isEqualTo(64);
        assertThat(config.limits().maxStreamsPerLink()).isEqualTo(1024);
        assertThat(config.limits().streamWindow()).isEqualTo(256 * 1024);
        assertThat(config.limits().streamWindowMax()).isEqualTo(4 << 20);
        assertThat(config.limits().linkWindowGrowth()).isEqualTo(16 << 20);
        assertThat(config.local().linkPool()).isEqualTo(2);
        assertThat(config.local().linkTls()).as("TLS is the default").isTrue();
        assertThat(config.limits().maxHandshakesPerSource()).isEqualTo(256);
        assertThat(config.limits().maxConnections()).isBetween(64, 8192);
        assertThat(config.reactor().eventLoops()).isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void remoteRoleDefaultsToTheLinkPort() {
        GatewayConfig config = GatewayConfig.from(Settings.empty().with("role", "remote", "--role"), dir);
        assertThat(config.listen()).isEqualTo(new HostPort("0.0.0.0", 7080));
        assertThat(config.console()).isEqualTo(new HostPort("127.0.0.1", 8080));
        assertThat(config.limits().maxHandshakesPerSource()).isEqualTo(32);
        assertThat(config.accountStore()).isEqualTo("sqlite");
    }

    @Test
    void yamlValuesAreRead() throws IOException {
        GatewayConfig config = load("""
                listen: "[::1]:0"
                console: off
                timeouts:
                  handshake: 250ms
                  idle: 2m
                reactor:
                  bufferSize: 16KiB
                plugins:
                  socks5: {}
                """);
        assertThat(config.listen()).isEqualTo(new HostPort("::1", 0));
        assertThat(config.console()).isNull();
        assertThat(config.timeouts().handshake()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.timeouts().idle()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.reactor().bufferSize()).isEqualTo(16 * 1024);
        assertThat(config.reactor().bulkBufferSize()).as("the default").isEqualTo(256 * 1024);
        assertThat(config.reactor().bulkBuffers()).as("the default").isEqualTo(64);
        assertThat(config.settings().sectionsUnder("plugins.")).containsExactly("socks5");
    }

    @Test
    void flagsOverrideTheFile() throws IOException {
        Settings file = YamlSettings.load(yaml("listen: 127.0.0.1:9999\n"), "gateway.yaml");
        GatewayConfig config = GatewayConfig.from(file.with("listen", "127.0.0.1:0", "--listen"), dir);
        assertThat(config.listen().port()).isZero();
    }

    @Test
    void ratesTakeUnitsAndTheRemoteRefusesAnOverallLimit() throws IOException {
        assertThat(load("rateLimit: 4MiB/s\n").local().rateLimit()).isEqualTo(4L << 20);
        assertThat(load("rateLimit: 1500\n").local().rateLimit()).isEqualTo(1500);
        assertThat(load("rateLimiter: none\n").rateLimiter()).isNull();
        assertThat(GatewayConfig.from(Settings.empty(), dir).rateLimiter()).isEqualTo("tokenBucket");
        assertThatThrownBy(() -> load("rateLimit: fast\n"))
                .hasMessage("gateway.yaml:1: rateLimit: \"fast\" (expected: bytes per second such as 1500, 512KiB"
                        + " or 4MiB/s; 0 for unlimited)");
        assertThatThrownBy(() -> load("rateLimit: -1\n")).hasMessageStartingWith("gateway.yaml:1: rateLimit:");
        assertThatThrownBy(() -> load("role: remote\nrateLimit: 1MiB\n"))
                .hasMessageStartingWith("gateway.yaml:2: rateLimit: only for the local role");
    }

    @Test
    void theLinksTlsSettingsAreCheckedTogether() throws IOException {
        String local = "remote: server.example:7080\nuser: alice\n";
        String pin = "sha256:" + "0a".repeat(32);
        assertThat(load(local + "remoteFingerprint: " + pin.toUpperCase(java.util.Locale.ROOT) + "\n").local()
                .remoteFingerprint()).as("read in lower case").isEqualTo(pin);
        assertThat(load(local + "remoteFingerprint: first-use\n").local().linkTls()).isTrue();
        assertThatThrownBy(() -> load(local)).as("TLS by default: the local must know whom to trust")
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("remoteFingerprint: missing (expected: how to trust the remote's link certificate:"
                        + " --remote-fingerprint=sha256:HEX as the remote prints at start in its `link fingerprint`"
                        + " line");
        assertThat(load(local + "linkTls:\n  mode: off\n").local().linkTls()).as("plaintext, explicitly").isFalse();
        assertThatThrownBy(() -> load(local + "linkTls:\n  mode: off\nremoteFingerprint: " + pin + "\n"))
                .hasMessageStartingWith("gateway.yaml:5: remoteFingerprint: with linkTls.mode: off");
        assertThatThrownBy(() -> load(local + "linkTls:\n  mode: maybe\n"))
                .hasMessageStartingWith("gateway.yaml:4: linkTls.mode: \"maybe\" (expected: on or off)");
        assertThatThrownBy(() -> load(local + "remoteFingerprint: sha256:abc\n"))
                .hasMessageStartingWith("gateway.yaml:3: remoteFingerprint: \"sha256:abc\" (expected: sha256:");
        assertThatThrownBy(() -> load(local + "remoteFingerprint: first-use\nremoteCa: ca.pem\n"))
                .hasMessageStartingWith("gateway.yaml:4: remoteCa: with remoteFingerprint");
        assertThatThrownBy(() -> load("remoteFingerprint: " + pin + "\n"))
                .hasMessageStartingWith("gateway.yaml:1: remoteFingerprint: only for a local with --remote");
        assertThatThrownBy(() -> load("linkTls:\n  certificate: cert.pem\n  key: key.pem\n"))
                .hasMessageStartingWith("gateway.yaml:2: linkTls.certificate: only for a remote");
        assertThatThrownBy(() -> load("role: remote\nlinkTls:\n  certificate: cert.pem\n"))
                .hasMessageContaining("linkTls.key: missing");
        assertThat(load("role: remote\n").remoteRole().linkTls()).as("TLS is the default").isTrue();
        assertThat(load("role: remote\n").listen()).isEqualTo(new HostPort("0.0.0.0", 7080));
        assertThat(load("role: remote\nlinkTls:\n  mode: off\n").remoteRole().linkTls()).isFalse();
    }

    @Test
    void errorsNameTheFileTheLineTheKeyAndTheExpectation() throws IOException {
        assertThatThrownBy(() -> load("role: local\ntimeouts:\n  handshake: 10x\n"))
                .isInstanceOf(ConfigError.class)
                .hasMessage("gateway.yaml:3: timeouts.handshake: \"10x\" (expected: a duration from 1ms to 10m,"
                        + " such as 500ms, 10s or 15m)");
        assertThatThrownBy(() -> load("listen: 127.0.0.1:1080\nlistn: x\n"))
                .hasMessage("gateway.yaml:2: listn: unknown key");
        assertThatThrownBy(() -> load("role: middle\n"))
                .hasMessage("gateway.yaml:1: role: \"middle\" (expected: local or remote)");
        assertThatThrownBy(() -> load("limits:\n  maxConnections: -3\n"))
                .hasMessageStartingWith("gateway.yaml:2: limits.maxConnections: \"-3\" (expected: an integer");
        assertThatThrownBy(() -> load("listen: nowhere\n"))
                .hasMessageStartingWith("gateway.yaml:1: listen: \"nowhere\" (expected: HOST:PORT");
        assertThatThrownBy(() -> load("reactor:\n  bufferSize: 12 bananas\n"))
                .hasMessageStartingWith("gateway.yaml:2: reactor.bufferSize: \"12 bananas\" (expected: a size");
        assertThatThrownBy(() -> load("reactor:\n  bufferSize: 128KiB\n  bulkBufferSize: 64KiB\n"))
                .hasMessageContaining("reactor.bulkBufferSize: 65536 bytes (expected: at least reactor.bufferSize,"
                        + " 131072 bytes)");
        assertThat(load("reactor:\n  bulkBufferSize: 1MiB\n  bulkBuffers: 0\n").reactor())
                .extracting(GatewayConfig.Reactor::bulkBufferSize, GatewayConfig.Reactor::bulkBuffers)
                .containsExactly(1 << 20, 0);
    }

    @Test
    void badYamlIsOneLineWithItsPosition() {
        assertThatThrownBy(() -> load("listen: [unclosed\n")).isInstanceOf(ConfigError.class)
                .hasMessageStartingWith("gateway.yaml:").hasMessageContaining("invalid YAML");
        assertThatThrownBy(() -> load("listen: a\nlisten: b\n")).isInstanceOf(ConfigError.class)
                .hasMessageContaining("gateway.yaml:2");
        assertThatThrownBy(() -> load("- a\n- b\n")).hasMessage("gateway.yaml:1: expected a mapping of keys to values"
                + " at the top");
        assertThatThrownBy(() -> load("listen:\n  - a: 1\n")).hasMessage("gateway.yaml:2: listen: expected a single"
                + " value");
    }

    @Test
    void aMissingOrUnreadableFileIsOneLine() {
        assertThatThrownBy(() -> YamlSettings.load(dir.resolve("absent.yaml"), "absent.yaml"))
                .isInstanceOf(ConfigError.class).hasMessage("absent.yaml: cannot read (no such file)");
    }

    @Test
    void flagErrorsNameTheFlag() {
        assertThatThrownBy(() -> GatewayConfig.from(Settings.empty().with("remote", "host:0", "--remote"), dir))
                .hasMessageStartingWith("--remote: remote: \"host:0\"");
    }

    @Test
    void sizesAndDurationsParseTheirUnits() {
        assertThat(Sizes.parse("1500")).isEqualTo(1500);
        assertThat(Sizes.parse("64KiB")).isEqualTo(65_536);
        assertThat(Sizes.parse("1MiB")).isEqualTo(1 << 20);
        assertThat(Sizes.parse("10MB")).isEqualTo(10_000_000);
        assertThat(Sizes.parse("2 gib")).isEqualTo(2L << 30);
        assertThat(Sizes.parse("-1")).isEqualTo(-1);
        assertThat(Sizes.parse("99999999999999999TiB")).isEqualTo(-1);
        assertThat(Durations.parse("15m")).isEqualTo(Duration.ofMinutes(15));
        assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.parse("10")).isNull();
        assertThat(HostPort.parse("[::1]:80")).isEqualTo(new HostPort("::1", 80));
        assertThat(HostPort.parse("::1:80")).isNull();
        assertThat(HostPort.parse("host:65536")).isNull();
    }
}
