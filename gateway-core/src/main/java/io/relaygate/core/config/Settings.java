package io.relaygate.core.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Flattened configuration ({@code timeouts.handshake → "10s"}) in layers: a later layer overrides an earlier one.
 * Immutable once built.
 */
public final class Settings {

    private final Map<String, Setting> values;
    /** Sections (mappings) by path and where they were written, so that an empty one, {@code sock5: {}}, counts. */
    private final Map<String, String> sections;

    private Settings(Map<String, Setting> values, Map<String, String> sections) {
        this.values = Map.copyOf(values);
        this.sections = Map.copyOf(sections);
    }

    /** {@return no settings at all: every key takes its embedded default} */
    public static Settings empty() {
        return new Settings(Map.of(), Map.of());
    }

    /** {@return these settings with {@code key} set to {@code value}, attributed to {@code origin}} */
    public Settings with(String key, String value, String origin) {
        Map<String, Setting> copy = new LinkedHashMap<>(values);
        copy.put(key, new Setting(value, origin));
        return new Settings(copy, sections);
    }

    /** {@return these settings with a (possibly empty) section at {@code path}, written at {@code origin}} */
    public Settings withSection(String path, String origin) {
        Map<String, String> copy = new LinkedHashMap<>(sections);
        copy.put(path, origin);
        return new Settings(values, copy);
    }

    /** {@return these settings overridden by every key of {@code overrides}} */
    public Settings overriddenBy(Settings overrides) {
        Map<String, Setting> copy = new LinkedHashMap<>(values);
        copy.putAll(overrides.values);
        Map<String, String> sectionCopy = new LinkedHashMap<>(sections);
        sectionCopy.putAll(overrides.sections);
        return new Settings(copy, sectionCopy);
    }

    Setting get(String key) {
        return values.get(key);
    }

    /** {@return where {@code key} was set, or {@code null} if it was not} */
    public String origin(String key) {
        Setting setting = values.get(key);
        return setting != null ? setting.origin() : sections.get(key);
    }

    /** {@return the keys under {@code prefix} (which ends with a dot, or is empty for all)} */
    Set<String> keysUnder(String prefix) {
        return values.keySet().stream().filter(k -> k.startsWith(prefix)).collect(Collectors.toCollection(TreeSet::new));
    }

    /** {@return the value of every key under {@code prefix} (which ends with a dot, or is empty for all), by key} */
    public Map<String, String> valuesUnder(String prefix) {
        Map<String, String> found = new TreeMap<>();
        values.forEach((key, setting) -> {
            if (key.startsWith(prefix)) {
                found.put(key, setting.value());
            }
        });
        return found;
    }

    /** {@return the names of the sections directly under {@code prefix}, e.g. the plugin names under plugins.} */
    public Set<String> sectionsUnder(String prefix) {
        Set<String> names = new TreeSet<>();
        Set<String> keys = new TreeSet<>(keysUnder(prefix));
        sections.keySet().stream().filter(k -> k.startsWith(prefix)).forEach(keys::add);
        for (String key : keys) {
            String rest = key.substring(prefix.length());
            int dot = rest.indexOf('.');
            names.add(dot < 0 ? rest : rest.substring(0, dot));
        }
        return names;
    }
}
