package io.relaygate.core.config;

import io.relaygate.spi.ConfigException;
import io.relaygate.spi.PluginConfig;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A section of the {@link Settings} (the whole tree for the core, {@code plugins.<name>} for a plugin) with typed,
 * validating accessors that remember which keys were read.
 */
public final class SectionConfig implements PluginConfig {

    private final Settings settings;
    private final String path;
    private final String prefix;
    /** The keys read so far: bookkeeping of the unknown-key check, safe from any thread; the values never change. */
    private final Set<String> consumed = ConcurrentHashMap.newKeySet();
    private final Set<String> excluded;

    /**
     * @param path the section's path, e.g. {@code plugins.socks5}; empty for the root
     */
    public SectionConfig(Settings settings, String path) {
        this(settings, path, Set.of());
    }

    private SectionConfig(Settings settings, String path, Set<String> excluded) {
        this.settings = settings;
        this.path = path;
        this.prefix = path.isEmpty() ? "" : path + ".";
        this.excluded = excluded;
    }

    /** {@return this section without the keys under {@code subPrefix} (e.g. {@code plugins.}), left to another check} */
    public SectionConfig excluding(String subPrefix) {
        Set<String> more = new HashSet<>(excluded);
        more.add(prefix + subPrefix);
        return new SectionConfig(settings, path, Set.copyOf(more));
    }

    @Override
    public String path() {
        return path;
    }

    private String raw(String key) {
        String full = prefix + key;
        consumed.add(full);
        Setting setting = settings.get(full);
        return setting == null ? null : setting.value();
    }

    private ConfigException invalid(String key, String value, String expected) {
        return new ConfigException(prefix + key, "\"" + value + "\" (expected: " + expected + ")");
    }

    @Override
    public String getString(String key, String defaultValue) {
        String value = raw(key);
        return value == null ? defaultValue : value;
    }

    @Override
    public boolean getBoolean(String key, boolean defaultValue) {
        String value = raw(key);
        if (value == null) {
            return defaultValue;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(key, value, "true or false");
        };
    }

    @Override
    public long getLong(String key, long defaultValue, long min, long max) {
        String value = raw(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            long parsed = Long.parseLong(value.trim());
            if (parsed >= min && parsed <= max) {
                return parsed;
            }
        } catch (NumberFormatException ignored) {
            // reported below with the range
        }
        throw invalid(key, value, "an integer from " + min + " to " + max);
    }

    @Override
    public long getSize(String key, long defaultValue, long min, long max) {
        String value = raw(key);
        if (value == null) {
            return defaultValue;
        }
        long parsed = Sizes.parse(value);
        if (parsed < min || parsed > max) {
            throw invalid(key, value, "a size from " + Sizes.format(min) + " to " + Sizes.format(max)
                    + ", such as 8192, 16KiB or 1MiB");
        }
        return parsed;
    }

    @Override
    public Duration getDuration(String key, Duration defaultValue, Duration min, Duration max) {
        String value = raw(key);
        if (value == null) {
            return defaultValue;
        }
        Duration parsed = Durations.parse(value);
        if (parsed == null || parsed.compareTo(min) < 0 || parsed.compareTo(max) > 0) {
            throw invalid(key, value, "a duration from " + Durations.format(min) + " to " + Durations.format(max)
                    + ", such as 500ms, 10s or 15m");
        }
        return parsed;
    }

    /**
     * Fails if the section holds a key that none of the accessors asked for.
     *
     * @throws ConfigException naming the first unknown key
     */
    public void requireAllConsumed() {
        for (String key : settings.keysUnder(prefix)) {
            if (!consumed.contains(key) && excluded.stream().noneMatch(key::startsWith)) {
                // `timeouts: 5s` gives a value where a section belongs: say so, rather than "unknown key".
                List<String> inside = consumed.stream().filter(k -> k.startsWith(key + ".")).sorted().toList();
                if (!inside.isEmpty()) {
                    throw new ConfigException(key, "\"" + settings.get(key).value() + "\" (expected: a section of"
                            + " keys such as " + inside.get(0).substring(key.length() + 1) + ", not a value)");
                }
                throw new ConfigException(key, "unknown key");
            }
        }
    }
}
