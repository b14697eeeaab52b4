package io.relaygate.core.cli;

import io.relaygate.core.ConfigReload;
import io.relaygate.core.Gateway;
import io.relaygate.core.StartException;
import io.relaygate.core.config.ConfigError;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.config.HostPort;
import io.relaygate.core.config.ConsoleSettings;
import io.relaygate.core.config.Settings;
import io.relaygate.spi.GatewayContext;
import io.relaygate.core.plugin.LoadedPlugin;
import io.relaygate.core.plugin.PluginException;
import io.relaygate.core.plugin.PluginLoader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;
import java.util.concurrent.atomic.AtomicReference;

/** {@code gateway}: runs the gateway in one of its roles, or a management subcommand. */
@Command(name = "gateway", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Relaygate: a SOCKS5 and HTTP CONNECT proxy gateway.",
        subcommands = {PluginsCommand.class, UserCommand.class, LinkCommand.class, ConfigCommand.class},
        footer = {"", "Exit status: 0 normal stop, 1 failure to start, 2 usage or configuration error."})
public final class Main implements Callable<Integer> {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Main.class);

    @Option(names = "--role", paramLabel = "local|remote", description = "the role to run (default: local)")
    String role;

    @Mixin
    SharedOptions shared = new SharedOptions();

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "local: the mixed SOCKS5 + HTTP CONNECT listener (default 127.0.0.1:1080);"
                    + " remote: the link listener, TLS 1.3 (default 0.0.0.0:7080)")
    String listen;

    @Option(names = "--remote", paramLabel = "HOST:PORT", description = "local: the remote gateway (default: none,"
            + " connect directly)")
    String remote;

    @Option(names = "--user", paramLabel = "NAME", description = "local: the account on the remote gateway")
    String user;

    @Option(names = "--remote-fingerprint", paramLabel = "sha256:HEX", description = "local: run the link over TLS"
            + " 1.3 to the remote whose certificate has this fingerprint (`gateway link fingerprint` on the remote)")
    String remoteFingerprint;

    @Option(names = "--remote-ca", paramLabel = "FILE", description = "local: run the link over TLS 1.3 to a remote"
            + " whose certificate chains to one of these CAs (PEM) and names the --remote host")
    Path remoteCa;

    @Option(names = "--link-tls", paramLabel = "on|off", description = "both: the link runs over TLS 1.3 (default"
            + " on); off (plaintext, for loopback tests and benchmarks) must be set on both sides")
    String linkTls;

    @Option(names = "--direct-listen", paramLabel = "HOST:PORT", description = "remote: also serve SOCKS5 and HTTP"
            + " CONNECT here, authenticated against the accounts (default: off)")
    String directListen;

    @Option(names = "--allow-destination", paramLabel = "CIDR[:PORTS]", description = "remote: open what the"
            + " destination policy refuses by default, e.g. 127.0.0.1/32 or ::1/128:8000-9000 (repeatable)")
    java.util.List<String> allowDestinations;

    @Option(names = "--expose", paramLabel = "NAME=HOST:PORT[@PUBLIC]", description = "local: expose the service at"
            + " HOST:PORT on a public port of the remote, PUBLIC if given (repeatable; adds to the file's expose list)")
    java.util.List<String> exposes;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "local: a file holding the account's password (or set GATEWAY_PASSWORD)")
    Path passwordFile;

    @Option(names = "--console", paramLabel = "HOST:PORT|off", description = "the web console's address, or off")
    String console;

    @Option(names = "--allow-open-proxy", description = "permit a listener without authentication on a"
            + " non-loopback address")
    boolean allowOpenProxy;

    /** Runs the command line and exits the JVM with its status. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** {@return the exit status of running the command line} */
    public static int run(String[] args) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setParameterExceptionHandler((e, a) -> {
            PrintWriter err = e.getCommandLine().getErr();
            // Point at the help of the command that was wrong, e.g. `gateway user add --help`.
            err.println("gateway: " + e.getMessage() + " (see " + e.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help)");
            err.flush();
            return ExitCodes.USAGE;
        });
        commandLine.setExecutionExceptionHandler((e, cl, parsed) -> {
            PrintWriter err = cl.getErr();
            if (e instanceof ConfigError) {
                err.println("gateway: " + e.getMessage());
                err.flush();
                return ExitCodes.USAGE;
            }
            if (e instanceof IllegalArgumentException) {     // a rule of AccountRules, from `gateway user`
                err.println("gateway: " + e.getMessage());
                err.flush();
                return ExitCodes.USAGE;
            }
            if (e instanceof StartException || e instanceof PluginException) {
                err.println("gateway: " + e.getMessage());
                err.flush();
                return ExitCodes.START_FAILURE;
            }
            throw e;
        });
        return commandLine.execute(args);
    }

    /** {@return the installation directory: {@code -Drelaygate.home}, set by bin/gateway, or the working directory} */
    static Path home() {
        String home = System.getProperty("relaygate.home");
        return Path.of(home != null ? home : "").toAbsolutePath().normalize();
    }

    @Override
    public Integer call() throws Exception {
        // Signals first: a TERM or INT that arrives while the gateway starts (or right after its `listening` lines)
        // must still mean a drained stop with status 0, not the JVM's default exit 143/130.
        CountDownLatch stopRequested = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stopRequested.countDown());
        Signal.handle(new Signal("INT"), s -> stopRequested.countDown());
        // The JVM's default for HUP is to exit at once (129, no drain, counters unflushed): here it reloads the
        // configuration file, once the gateway runs.
        AtomicReference<Gateway> running = new AtomicReference<>();
        Signal.handle(new Signal("HUP"), s -> reload(running.get()));
        Configured configured = configure();
        GatewayConfig config = configured.config();
        ConsoleSettings saved = configured.saved();
        List<LoadedPlugin> plugins = PluginLoader.load(config.pluginsDir());
        Gateway gateway = Gateway.builder(config).loadedPlugins(plugins).linkPassword(linkPassword(config, saved))
                .start();
        running.set(gateway);
        if (gateway.linkFingerprint() != null) {
            System.out.println("link fingerprint " + gateway.linkFingerprint());
        }
        for (var listener : gateway.listeners()) {
            System.out.println("listening " + listener.name() + " " + format(listener.address()));
        }
        if (gateway.consoleAddress() != null) {
            System.out.println("listening console " + format(gateway.consoleAddress()));
        }
        System.out.flush();
        stopRequested.await();
        gateway.shutdown(gateway.liveConfig().timeouts().drain());
        return ExitCodes.OK;
    }

    /** The configuration and, on the local role, the console's saved settings it took in. */
    private record Configured(GatewayConfig config, ConsoleSettings saved) {
    }

    /** Reads the file and layers the console's saved settings and the flags over it, as at start. */
    private Configured configure() {
        return configure(true);
    }

    private Configured configure(boolean announce) {
        Settings flags = flags();
        Settings settings = shared.settings().overriddenBy(flags);
        GatewayConfig fileConfig = firstPass(settings);
        ConsoleSettings saved = fileConfig.role() == GatewayContext.Role.LOCAL
                ? ConsoleSettings.load(fileConfig.dataDir()) : null;
        GatewayConfig config = saved == null ? GatewayConfig.from(settings, home()) : fileConfig;
        if (saved != null) {
            // What the console saved ranks between the flags and the file.
            Settings consoleLayer = Settings.empty();
            String origin = fileConfig.dataDir().resolve(ConsoleSettings.FILE).toString();
            List<String> applied = new java.util.ArrayList<>();
            if (saved.remote() != null) {
                consoleLayer = consoleLayer.with("remote", saved.remote(), origin);
                applied.add(remote == null ? "remote " + saved.remote() : null);
            }
            if (saved.user() != null) {
                consoleLayer = consoleLayer.with("user", saved.user(), origin);
                applied.add(user == null ? "user " + saved.user() : null);
            }
            // The saved fingerprint is the saved remote's: it applies to no other remote the flags name.
            boolean sameRemote = remote == null || remote.equals(saved.remote());
            if (saved.remoteFingerprint() != null && remoteCa == null && remoteFingerprint == null && sameRemote) {
                consoleLayer = consoleLayer.with("remoteFingerprint", saved.remoteFingerprint(), origin);
                applied.add("remote fingerprint " + saved.remoteFingerprint());
            }
            if (saved.password() != null) {
                applied.add(passwordFile == null && System.getenv("GATEWAY_PASSWORD") == null ? "the link password"
                        : null);
            }
            applied.removeIf(java.util.Objects::isNull);
            if (!applied.isEmpty() && announce) {
                // Otherwise a later start from the same install silently differs from its config file and flags.
                log.info("applying settings saved by the console in {}: {} (flags override them; delete the file"
                        + " or choose other settings in the console to change them)", origin,
                        String.join(", ", applied));
            }
            config = GatewayConfig.from(shared.settings().overriddenBy(consoleLayer).overriddenBy(flags), home());
        }
        return new Configured(config, saved);
    }

    /**
     * SIGHUP: reads the configuration again and applies its live keys; a file that does not validate changes
     * nothing. Runs on the JVM's signal thread.
     */
    private void reload(Gateway gateway) {
        if (gateway == null) {
            log.info("SIGHUP received while the gateway starts: ignored");
            return;
        }
        try {
            GatewayConfig next = configure(false).config();
            ConfigReload.Changes changes = gateway.reload(next);
            if (changes.isEmpty()) {
                log.info("SIGHUP: configuration read again; nothing changed");
                return;
            }
            if (!changes.live().isEmpty()) {
                log.info("SIGHUP: configuration reloaded; applied to what starts from now on: {}",
                        String.join(", ", changes.live()));
            }
            if (!changes.restartOnly().isEmpty()) {
                log.warn("SIGHUP: {} changed; {} only at a restart (the running values stay)",
                        String.join(", ", changes.restartOnly()), changes.restartOnly().size() == 1 ? "it applies"
                                : "they apply");
            }
        } catch (ConfigError e) {
            log.error("SIGHUP: the configuration was not reloaded, nothing changed: {}", e.getMessage());
        } catch (RuntimeException e) {
            log.error("SIGHUP: the configuration was not reloaded, nothing changed: {}", e.toString());
        }
    }

    /**
     * The configuration before the console's saved settings are known, to find the data directory they are in: a
     * remote's fingerprint may be among them, so its absence is not an error yet (the full configuration checks it).
     */
    private GatewayConfig firstPass(Settings settings) {
        try {
            return GatewayConfig.from(settings, home());
        } catch (ConfigError e) {
            try {
                return GatewayConfig.from(settings.overriddenBy(Settings.empty().with("remoteFingerprint",
                        "first-use", "the first pass")), home());
            } catch (ConfigError other) {
                throw e;
            }
        }
    }

    /** The flags of this command as settings, to override everything else. */
    private Settings flags() {
        Settings settings = Settings.empty();
        settings = flag(settings, "role", "--role", role);
        settings = flag(settings, "listen", "--listen", listen);
        settings = flag(settings, "remote", "--remote", remote);
        settings = flag(settings, "user", "--user", user);
        settings = flag(settings, "console", "--console", console);
        settings = flag(settings, "directListen", "--direct-listen", directListen);
        settings = flag(settings, "remoteFingerprint", "--remote-fingerprint", remoteFingerprint);
        settings = flag(settings, "linkTls.mode", "--link-tls", linkTls);
        settings = flag(settings, "remoteCa", "--remote-ca", remoteCa == null ? null : remoteCa.toAbsolutePath()
                .toString());
        if (allowDestinations != null && !allowDestinations.isEmpty()) {
            for (String entry : allowDestinations) {
                if (entry.contains(",")) {
                    throw new ConfigError("--allow-destination=" + entry + ": one CIDR[:PORTS] per flag");
                }
            }
            settings = settings.with("allowDestination", String.join(",", allowDestinations), "--allow-destination");
        }
        if (exposes != null) {
            for (int i = 0; i < exposes.size(); i++) {
                String entry = exposes.get(i);
                int equals = entry.indexOf('=');
                if (equals <= 0) {
                    throw new ConfigError("--expose=" + entry + ": expected NAME=HOST:PORT[@PUBLIC], e.g."
                            + " web=127.0.0.1:8080 or ssh=127.0.0.1:22@60022");
                }
                String target = entry.substring(equals + 1);
                int at = target.lastIndexOf('@');
                String section = "expose.flag" + i;
                String origin = "--expose=" + entry;
                settings = settings.withSection(section, origin)
                        .with(section + ".name", entry.substring(0, equals), origin)
                        .with(section + ".target", at < 0 ? target : target.substring(0, at), origin);
                if (at >= 0) {
                    settings = settings.with(section + ".remotePort", target.substring(at + 1), origin);
                }
            }
        }
        settings = flag(settings, "passwordFile", "--password-file",
                passwordFile == null ? null : passwordFile.toAbsolutePath().toString());
        if (allowOpenProxy) {
            settings = settings.with("allowOpenProxy", "true", "--allow-open-proxy");
        }
        return settings;
    }

    /**
     * The link password, never logged: the first line of {@code --password-file}, else GATEWAY_PASSWORD, else the
     * one the console saved, else the first line of the configuration's {@code passwordFile}.
     */
    private byte[] linkPassword(GatewayConfig config, ConsoleSettings saved) {
        if (passwordFile == null) {
            String fromEnvironment = System.getenv("GATEWAY_PASSWORD");
            if (fromEnvironment != null) {
                return fromEnvironment.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
            if (saved != null && saved.password() != null) {
                return saved.password().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        java.nio.file.Path configuredFile = config.roleConfig() instanceof GatewayConfig.LocalConfig local
                ? local.passwordFile() : null;
        if (configuredFile != null) {
            try {
                String content = Files.readString(configuredFile, java.nio.charset.StandardCharsets.UTF_8);
                String line = content.lines().findFirst().orElse("");
                return line.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new ConfigError("--password-file=" + configuredFile + ": cannot read the file");
            }
        }
        String fromEnvironment = System.getenv("GATEWAY_PASSWORD");
        return fromEnvironment == null ? new byte[0] : fromEnvironment.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static Settings flag(Settings settings, String key, String flag, String value) {
        return SharedOptions.flag(settings, key, flag, value);
    }

    static String format(InetSocketAddress address) {
        return HostPort.of(address).toString();
    }
}
