package io.relaygate.core.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The local role's link settings as the console saved them, in {@code <data-dir>/console-settings.yaml}: the remote,
 * the user, the link password and the remote's certificate fingerprint. Mode 0600, because it holds the password. They rank between the flags and the
 * configuration file. Immutable.
 *
 * @param remote   {@code HOST:PORT}, or null for direct connections
 * @param user     the account on the remote, or null
 * @param password the link password (UTF-8), or null
 * @param remoteFingerprint the remote's link certificate ({@code sha256:<hex>} or {@code first-use}), or null
 */
public record ConsoleSettings(String remote, String user, String password, String remoteFingerprint) {

    /** The file's name in the data directory. */
    public static final String FILE = "console-settings.yaml";
    private static final Set<String> KEYS = Set.of("remote", "user", "password", "remoteFingerprint");

    /**
     * {@return the saved settings, or null when nothing was saved}
     *
     * @throws ConfigError naming the file and the problem
     */
    public static ConsoleSettings load(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Object document;
        try {
            document = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        } catch (IOException | YAMLException e) {
            throw new ConfigError(file + ": cannot read the console's saved settings: " + e.getMessage());
        }
        if (document == null) {
            return null;
        }
        if (!(document instanceof Map<?, ?> map) || !KEYS.containsAll(map.keySet())) {
            throw new ConfigError(file + ": expected a map of " + KEYS);
        }
        return new ConsoleSettings(text(map.get("remote")), text(map.get("user")), text(map.get("password")),
                text(map.get("remoteFingerprint")));
    }

    private static String text(Object value) {
        return value == null ? null : String.valueOf(value);
    }

    /** Writes the settings atomically, the file readable and writable by its owner only. */
    public void save(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("remote", remote);
        map.put("user", user);
        map.put("password", password);
        map.put("remoteFingerprint", remoteFingerprint);
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        String text = "# Saved by the web console; it holds the link password. Flags override it; it overrides"
                + " conf/gateway.yaml.\n" + new Yaml(options).dump(map);
        Path file = dataDir.resolve(FILE);
        Path temporary = Files.createTempFile(dataDir, FILE, ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
