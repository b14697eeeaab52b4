package io.relaygate.core.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Flattened configuration ({@code timeouts.handshake → "10s"}) in layers: a later layer overrides an earlier one.
 * Immutable once built.
 */
public final class Settings {

    private final Map<String, Setting> values;

    private Settings(Map<String, Setting> values) {
        this.values = Map.copyOf(values);
    }

    /** {@return no settings at all: every key takes its embedded default} */
    public static Settings empty() {
        return new Settings(Map.of());
    }

    /** {@return these settings with {@code key} set to {@code value}, attributed to {@code origin}} */
    public Settings with(String key, String value, String origin) {
        Map<String, Setting> copy = new LinkedHashMap<>(values);
        copy.put(key, new Setting(value, origin));
        return new Settings(copy);
    }

    /** {@return these settings overridden by every key of {@code overrides}} */
    public Settings overriddenBy(Settings overrides) {
        Map<String, Setting> copy = new LinkedHashMap<>(values);
        copy.putAll(overrides.values);
        return new Settings(copy);
    }

    Setting get(String key) {
        return values.get(key);
    }

    /** {@return where {@code key} was set, or {@code null} if it was not} */
    public String origin(String key) {
        Setting setting = values.get(key);
        return setting == null ? null : setting.origin();
    }

    /** {@return the keys under {@code prefix} (which ends with a dot, or is empty for all)} */
    Set<String> keysUnder(String prefix) {
        return values.keySet().stream().filter(k -> k.startsWith(prefix)).collect(Collectors.toCollection(TreeSet::new));
    }

    /** {@return the names of the sections directly under {@code prefix}, e.g. the plugin names under plugins.} */
    public Set<String> sectionsUnder(String prefix) {
        Set<String> names = new TreeSet<>();
        for (String key : keysUnder(prefix)) {
            String rest = key.substring(prefix.length());
            int dot = rest.indexOf('.');
            names.add(dot < 0 ? rest : rest.substring(0, dot));
        }
        return names;
    }
}
