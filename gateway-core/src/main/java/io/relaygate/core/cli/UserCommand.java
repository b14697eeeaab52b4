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
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountRules;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreException;
import io.relaygate.spi.AccountUpdate;
import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.Quota;
import io.relaygate.spi.ScramCredential;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
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
            "  gateway user add NAME [LIMITS] [--disabled] [--password-stdin]",
            "  gateway user list",
            "  gateway user show NAME",
            "  gateway user set NAME [LIMITS] [--enable | --disable] [--password-stdin]",
            "  gateway user del NAME",
            "", "LIMITS: [--rate=RATE] [--rate-up=RATE] [--rate-down=RATE] [--max-connections=N]"
                + " [--expires=WHEN] [--quota=QUOTA] [--expose-ports=N]",
            "RATE is bytes per second, plain or with a unit: 1500, 64KiB, 1MiB, 10MB; 0 is unlimited.",
            "WHEN is a UTC date (valid through that day), an instant such as 2027-01-31T12:00:00Z, or never.",
            "QUOTA is an amount per UTC calendar day, week or month, such as 50GiB/month; or none.",
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

    /** The limits that add and set take; each null when not given. */
    static final class LimitOptions {
        @Option(names = "--rate", paramLabel = "RATE", description = "the user's bandwidth over both directions and"
                + " all their tunnels, bytes/s or with a unit (1MiB); 0 is unlimited; live tunnels follow within a"
                + " second")
        String rate;
        @Option(names = "--rate-up", paramLabel = "RATE", description = "bandwidth from the user's clients, beside"
                + " --rate; 0: no separate limit")
        String rateUp;
        @Option(names = "--rate-down", paramLabel = "RATE", description = "bandwidth to the user's clients, beside"
                + " --rate; 0: no separate limit")
        String rateDown;
        @Option(names = "--max-connections", paramLabel = "N", description = "concurrent tunnels of the user, all"
                + " protocols and locals together; 0: no cap")
        String maxConnections;
        @Option(names = "--expires", paramLabel = "WHEN", description = "when logins stop and live tunnels close:"
                + " a UTC date (valid through that day), an instant (2027-01-31T12:00:00Z), or never")
        String expires;
        @Option(names = "--quota", paramLabel = "QUOTA", description = "traffic both ways per UTC calendar day, week"
                + " or month (50GiB/month); at it the user's tunnels close until the period turns; none")
        String quota;
        @Option(names = "--expose-ports", paramLabel = "N", description = "public ports the user may hold at once for"
                + " the reverse tunnel; 0: may expose nothing")
        String exposePorts;

        /** {@return the update these options make; the options are checked first, exit 2 naming a bad one} */
        AccountUpdate update() {
            AccountUpdate update = AccountUpdate.NONE;
            if (rate != null) {
                update = update.withRate(parse("--rate", rate, AccountRules::parseRate));
            }
            if (rateUp != null) {
                update = update.withRateUp(parse("--rate-up", rateUp, AccountRules::parseRate));
            }
            if (rateDown != null) {
                update = update.withRateDown(parse("--rate-down", rateDown, AccountRules::parseRate));
            }
            if (maxConnections != null) {
                update = update.withMaxConnections(parse("--max-connections", maxConnections,
                        v -> AccountRules.checkMaxConnections(count(v))));
            }
            if (expires != null) {
                update = update.withExpires(parse("--expires", expires, AccountRules::parseExpiry));
            }
            if (quota != null) {
                update = update.withQuota(parse("--quota", quota, Quota::parse));
            }
            if (exposePorts != null) {
                update = update.withExposePorts(parse("--expose-ports", exposePorts,
                        v -> AccountRules.checkExposePorts(count(v))));
            }
            return update;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a user.")
    int add(@Mixin SharedOptions shared, @Parameters(paramLabel = "NAME") String name,
            @ArgGroup(exclusive = false) LimitOptions limitOptions,
            @Option(names = "--disabled", description = "create the account disabled") boolean disabled,
            @Option(names = "--password-stdin", description = "read the password from the first line of standard"
                    + " input instead of prompting") boolean passwordStdin) {
        AccountRules.checkName(name);
        AccountLimits limits = (limitOptions == null ? AccountUpdate.NONE : limitOptions.update())
                .applyTo(AccountLimits.NONE);
        return withStore(shared, (store, config) -> {
            ScramCredential credential = credential(passwordStdin, config);
            store.create(Account.create(name, credential, !disabled, limits));
            System.out.println("added " + name);
            return ExitCodes.OK;
        });
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the users (no secrets).")
    int list(@Mixin SharedOptions shared) {
        return withStore(shared, (store, config) -> {
            Table table = new Table("NAME", "RATE>", "ENABLED", "EXPIRES", "QUOTA", "MAX_CONN>", "EXPOSE_PORTS>",
                    "BYTES_UP>", "BYTES_DOWN>", "UPDATED");
            for (Account a : store.list()) {
                AccountLimits l = a.limits();
                table.row(a.name(), a.rate(), a.enabled() ? "yes" : "no", expiry(l.expires()), l.quota(),
                        l.maxConnections(), a.exposePorts(), a.bytesUp(), a.bytesDown(),
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
            AccountLimits l = a.limits();
            Instant now = Instant.now();
            System.out.println("name:           " + a.name());
            System.out.println("enabled:        " + (a.enabled() ? "yes" : "no")
                    + (l.expiredAt(now) ? " (expired)" : ""));
            System.out.println("rate:           " + rate(l.rate(), " (unlimited)"));
            System.out.println("rateUp:         " + rate(l.rateUp(), " (no separate limit)"));
            System.out.println("rateDown:       " + rate(l.rateDown(), " (no separate limit)"));
            System.out.println("maxConnections: " + l.maxConnections() + (l.maxConnections() == 0 ? " (no cap)" : ""));
            System.out.println("expires:        " + expiry(l.expires()));
            System.out.println("quota:          " + l.quota());
            if (l.quota().limited()) {
                long[] used = store.traffic(name, l.quota().periodStart(now));
                long total = used[0] + used[1];
                System.out.println("quotaUsed:      " + total + " bytes since " + l.quota().periodStart(now));
                System.out.println("quotaRemaining: " + Math.max(0, l.quota().bytes() - total) + " bytes until "
                        + DateTimeFormatter.ISO_INSTANT.format(l.quota().periodEnd(now)));
            }
            System.out.println("exposePorts:    " + a.exposePorts());
            System.out.println("bytesUp:        " + a.bytesUp());
            System.out.println("bytesDown:      " + a.bytesDown());
            System.out.println("created:        " + DateTimeFormatter.ISO_INSTANT.format(a.created()));
            System.out.println("updated:        " + DateTimeFormatter.ISO_INSTANT.format(a.updated()));
            System.out.println("iterations:     " + a.credential().iterations());
            return ExitCodes.OK;
        });
    }

    private static String rate(long bytesPerSecond, String whenZero) {
        return bytesPerSecond == 0 ? "0" + whenZero : bytesPerSecond + " bytes/s";
    }

    private static String expiry(Instant expires) {
        return expires == null ? "never" : DateTimeFormatter.ISO_INSTANT.format(expires);
    }

    /** --enable and --disable exclude each other. */
    static final class Enablement {
        @Option(names = "--enable", required = true, description = "let the user log in again")
        boolean enable;
        @Option(names = "--disable", required = true, description = "refuse the user's logins and close their live"
                + " tunnels")
        boolean disable;
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Change a user's limits, state or"
            + " password.")
    int set(@Mixin SharedOptions shared, @Parameters(paramLabel = "NAME") String name,
            @ArgGroup(exclusive = false) LimitOptions limitOptions,
            @ArgGroup(exclusive = true) Enablement enablement,
            @Option(names = "--password-stdin", description = "set a new password, read from the first line of"
                    + " standard input") boolean passwordStdin) {
        AccountRules.checkName(name);
        AccountUpdate limits = limitOptions == null ? AccountUpdate.NONE : limitOptions.update();
        return withStore(shared, (store, config) -> {
            AccountUpdate update = limits;
            if (enablement != null) {
                update = update.withEnabled(enablement.enable);
            }
            if (passwordStdin) {
                update = update.withCredential(credential(true, config));
            }
            if (update.isEmpty()) {
                throw new ConfigError("user set: nothing to change (expected: --rate, --rate-up, --rate-down,"
                        + " --max-connections, --expires, --quota, --expose-ports, --enable, --disable or"
                        + " --password-stdin)");
            }
            Optional<Account> updated = store.update(name, update);
            updated.orElseThrow(() -> new UserFailure("no user " + name));
            System.out.println("updated " + name);
            return ExitCodes.OK;
        });
    }

    /**
     * Parses one flag's value. {@return what {@code parser} makes of it}
     *
     * @throws ConfigError naming the flag, the value and what is expected (exit 2)
     */
    static <T> T parse(String flag, String value, java.util.function.Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            int colon = message.indexOf(": ");
            String expected = colon >= 0 ? message.substring(colon + 2) : message;
            if (expected.startsWith("expected ")) {
                expected = "expected: " + expected.substring("expected ".length());
            }
            throw new ConfigError(flag + ": \"" + value + "\" (" + expected + ")");
        }
    }

    /** A count for an option: digits only, within an int; the option's own check gives the range. */
    private static int count(String text) {
        String digits = text.trim();
        if (!digits.matches("-?\\d{1,10}") || Long.parseLong(digits) != (int) Long.parseLong(digits)) {
            throw new IllegalArgumentException("count: expected a whole number");
        }
        return Integer.parseInt(digits);
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
