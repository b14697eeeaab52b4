package io.relaygate.core.cli;

import io.relaygate.core.AccountStores;
import io.relaygate.core.DataDirectory;
import io.relaygate.core.Gateway;
import io.relaygate.core.config.ConfigError;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.plugin.LoadedPlugin;
import io.relaygate.core.plugin.PluginLoader;
import io.relaygate.spi.Account;
import io.relaygate.spi.AccountExistsException;
import io.relaygate.spi.AccountRules;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreException;
import io.relaygate.spi.AccountUpdate;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.ScramCredential;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gateway user add|list|show|set|del}: manages accounts in the account store ({@code accountStore}, default
 * {@code sqlite}), also while a gateway runs on the same data directory.
 */
@Command(name = "user", mixinStandardHelpOptions = true, description = "Manage user accounts.",
        footer = {"", "Commands and their flags (each also takes --config=FILE and --data-dir=DIR; see"
                + " gateway user COMMAND --help):",
            "  gateway user add NAME [--rate=RATE] [--expose-ports=N] [--disabled] [--password-stdin]",
            "  gateway user list",
            "  gateway user show NAME",
            "  gateway user set NAME [--rate=RATE] [--expose-ports=N] [--enable | --disable] [--password-stdin]",
            "  gateway user del NAME",
            "", "RATE is bytes per second, plain or with a unit: 1500, 64KiB, 1MiB, 10MB; 0 is unlimited.",
            "Without --password-stdin, add asks for the password on the terminal."})
final class UserCommand implements java.util.concurrent.Callable<Integer> {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Without a subcommand: say which there are. */
    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return ExitCodes.USAGE;
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a user.")
    int add(@Mixin SharedOptions shared, @Parameters(paramLabel = "NAME") String name,
            @Option(names = "--rate", paramLabel = "RATE", defaultValue = "0", description = "the user's bandwidth"
                    + " over both directions and all their tunnels, bytes/s or with a unit (1MiB); 0 (the default)"
                    + " is unlimited") String rate,
            @Option(names = "--expose-ports", paramLabel = "N", defaultValue = "0", description = "public ports the"
                    + " user may hold at once for the reverse tunnel; 0 (the default): may expose nothing")
            int exposePorts,
            @Option(names = "--disabled", description = "create the account disabled") boolean disabled,
            @Option(names = "--password-stdin", description = "read the password from the first line of standard"
                    + " input instead of prompting") boolean passwordStdin) {
        AccountRules.checkName(name);
        long bytesPerSecond = parseRate(rate);
        checkExposePorts(exposePorts);
        return withStore(shared, (store, config) -> {
            ScramCredential credential = credential(passwordStdin, config);
            store.create(Account.create(name, credential, bytesPerSecond, !disabled).withExposePorts(exposePorts));
            System.out.println("added " + name);
            return ExitCodes.OK;
        });
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the users (no secrets).")
    int list(@Mixin SharedOptions shared) {
        return withStore(shared, (store, config) -> {
            Table table = new Table("NAME", "RATE>", "ENABLED", "EXPOSE_PORTS>", "BYTES_UP>", "BYTES_DOWN>",
                    "UPDATED");
            for (Account a : store.list()) {
                table.row(a.name(), a.rate(), a.enabled() ? "yes" : "no", a.exposePorts(), a.bytesUp(), a.bytesDown(),
                        DateTimeFormatter.ISO_INSTANT.format(a.updated()));
            }
            table.print(System.out);
            return ExitCodes.OK;
        });
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one user (no secrets).")
    int show(@Mixin SharedOptions shared, @Parameters(paramLabel = "NAME") String name) {
        AccountRules.checkName(name);
        return withStore(shared, (store, config) -> {
            Account a = store.find(name).orElseThrow(() -> new UserFailure("no user " + name));
            System.out.println("name:       " + a.name());
            System.out.println("rate:       " + a.rate() + (a.rate() == 0 ? " (unlimited)" : " bytes/s"));
            System.out.println("enabled:    " + (a.enabled() ? "yes" : "no"));
            System.out.println("exposePorts: " + a.exposePorts());
            System.out.println("bytesUp:    " + a.bytesUp());
            System.out.println("bytesDown:  " + a.bytesDown());
            System.out.println("created:    " + DateTimeFormatter.ISO_INSTANT.format(a.created()));
            System.out.println("updated:    " + DateTimeFormatter.ISO_INSTANT.format(a.updated()));
            System.out.println("iterations: " + a.credential().iterations());
            return ExitCodes.OK;
        });
    }

    /** --enable and --disable exclude each other. */
    static final class Enablement {
        @Option(names = "--enable", required = true, description = "let the user log in again")
        boolean enable;
        @Option(names = "--disable", required = true, description = "refuse the user's logins and close their live"
                + " tunnels")
        boolean disable;
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Change a user's rate, state or password.")
    int set(@Mixin SharedOptions shared, @Parameters(paramLabel = "NAME") String name,
            @Option(names = "--rate", paramLabel = "RATE", description = "a new bandwidth, bytes/s or with a unit"
                    + " (1MiB); 0 is unlimited; live tunnels follow within a second") String rate,
            @Option(names = "--expose-ports", paramLabel = "N", description = "public ports the user may hold at"
                    + " once for the reverse tunnel (0: none); ports beyond it close within a second")
            Integer exposePorts,
            @ArgGroup(exclusive = true) Enablement enablement,
            @Option(names = "--password-stdin", description = "set a new password, read from the first line of"
                    + " standard input") boolean passwordStdin) {
        AccountRules.checkName(name);
        Long bytesPerSecond = rate == null ? null : parseRate(rate);
        Boolean enabled = enablement == null ? null : enablement.enable;
        if (exposePorts != null) {
            checkExposePorts(exposePorts);
        }
        return withStore(shared, (store, config) -> {
            ScramCredential credential = passwordStdin ? credential(true, config) : null;
            if (credential == null && bytesPerSecond == null && enabled == null && exposePorts == null) {
                throw new ConfigError("user set: nothing to change (expected: --rate, --expose-ports, --enable,"
                        + " --disable or --password-stdin)");
            }
            Optional<Account> updated = store.update(name, new AccountUpdate(credential, bytesPerSecond, enabled,
                    exposePorts));
            updated.orElseThrow(() -> new UserFailure("no user " + name));
            System.out.println("updated " + name);
            return ExitCodes.OK;
        });
    }

    private static void checkExposePorts(int ports) {
        try {
            AccountRules.checkExposePorts(ports);
        } catch (IllegalArgumentException e) {
            throw new ConfigError("--expose-ports: " + ports + " (expected: 0 to " + AccountRules.MAX_EXPOSE_PORTS
                    + ")");
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true, description = "Delete a user.")
    int del(@Mixin SharedOptions shared, @Parameters(paramLabel = "NAME") String name) {
        AccountRules.checkName(name);
        return withStore(shared, (store, config) -> {
            if (!store.delete(name)) {
                throw new UserFailure("no user " + name);
            }
            System.out.println("deleted " + name);
            return ExitCodes.OK;
        });
    }

    /** One step against the open store. */
    @FunctionalInterface
    private interface StoreAction {
        int run(AccountStore store, GatewayConfig config) throws IOException;
    }

    /** A failure to report in one line with status 1 (no such user, name taken, store unavailable). */
    static final class UserFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UserFailure(String message) {
            super(message);
        }
    }

    private static int withStore(SharedOptions shared, StoreAction action) {
        GatewayConfig config = GatewayConfig.from(shared.settings(), Main.home());
        List<LoadedPlugin> plugins = PluginLoader.load(config.pluginsDir());
        String name = config.accountStore() != null ? config.accountStore() : "sqlite";
        GatewayContext context = Gateway.context(config, Runnable::run);
        DataDirectory.secure(config.dataDir());
        try (AccountStore store = AccountStores.open(name, config, plugins.stream().map(LoadedPlugin::plugin).toList(),
                context)) {
            return action.run(store, config);
        } catch (AccountExistsException | AccountStoreException | UserFailure e) {
            System.err.println("gateway: " + e.getMessage());
            return ExitCodes.START_FAILURE;
        } catch (IOException e) {
            System.err.println("gateway: cannot read the password: " + e.getMessage());
            return ExitCodes.START_FAILURE;
        }
    }

    private static long parseRate(String text) {
        try {
            return AccountRules.parseRate(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigError("--rate: \"" + text + "\" (expected: bytes per second such as 1500, 64KiB, 1MiB/s"
                    + " or 10MB; 0 for unlimited)");
        }
    }

    /** Reads a password (never echoed, never logged) and derives its credential; the password bytes are wiped. */
    private static ScramCredential credential(boolean fromStdin, GatewayConfig config) throws IOException {
        byte[] password = fromStdin ? readStdinLine() : prompt();
        try {
            AccountRules.checkPassword(password);
            return ScramCredential.create(password, config.passwordIterations(), new SecureRandom());
        } finally {
            Arrays.fill(password, (byte) 0);
        }
    }

    private static byte[] readStdinLine() throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = reader.readLine();
        if (line == null) {
            throw new ConfigError("--password-stdin: standard input is empty (expected: the password on one line)");
        }
        return line.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] prompt() {
        Console console = System.console();
        if (console == null) {
            throw new ConfigError("no terminal to ask for the password (expected: --password-stdin)");
        }
        char[] first = console.readPassword("password: ");
        char[] second = console.readPassword("again: ");
        try {
            if (first == null || second == null || !Arrays.equals(first, second)) {
                throw new ConfigError("the passwords differ");
            }
            var encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(first));
            byte[] bytes = new byte[encoded.remaining()];
            encoded.get(bytes);
            return bytes;
        } finally {
            if (first != null) {
                Arrays.fill(first, '\0');
            }
            if (second != null) {
                Arrays.fill(second, '\0');
            }
        }
    }
}
