package io.relaygate.core.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a YAML file into flat {@link Settings}, keeping each value's line so errors can point at it. Only nested
 * mappings of scalars are configuration; anything else is an error naming the line.
 */
public final class YamlSettings {

    /** Larger than any sensible configuration, small enough that a wrong file cannot exhaust memory. */
    private static final int MAX_FILE_BYTES = 1 << 20;
    /** The keys whose value is a list of sections rather than one value. */
    private static final Set<String> SECTION_LISTS = Set.of("expose");

    private YamlSettings() {
    }

    /**
     * Loads a configuration file.
     *
     * @param display how to name the file in errors (the path as the user gave it)
     * @throws ConfigError if the file cannot be read or is not valid configuration
     */
    public static Settings load(Path file, String display) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new ConfigError(display + ": larger than 1 MiB; is this the right file?");
            }
        } catch (IOException e) {
            throw new ConfigError(display + ": cannot read (" + describe(e) + ")");
        }
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setAllowRecursiveKeys(false);
        options.setMaxAliasesForCollections(10);
        options.setCodePointLimit(MAX_FILE_BYTES);
        Node root;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Yaml(options).compose(reader);
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String line = mark == null ? "" : ":" + (mark.getLine() + 1);
            throw new ConfigError(display + line + ": invalid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigError(display + ": invalid YAML: " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigError(display + ": cannot read (" + describe(e) + ")");
        }
        Settings settings = Settings.empty();
        if (root == null) {
            return settings;
        }
        if (!(root instanceof MappingNode mapping)) {
            throw new ConfigError(display + ":" + line(root) + ": expected a mapping of keys to values at the top");
        }
        return flatten(mapping, "", display, settings);
    }

    private static Settings flatten(MappingNode mapping, String prefix, String display, Settings settings) {
        Set<String> seen = new HashSet<>();
        for (NodeTuple tuple : mapping.getValue()) {
            Node keyNode = tuple.getKeyNode();
            if (!(keyNode instanceof ScalarNode scalarKey)) {
                throw new ConfigError(display + ":" + line(keyNode) + ": expected a plain key");
            }
            String key = prefix + scalarKey.getValue();
            if (!seen.add(key)) {
                throw new ConfigError(display + ":" + line(keyNode) + ": " + key + ": set twice");
            }
            Node value = tuple.getValueNode();
            if (value instanceof MappingNode nested) {
                settings = settings.withSection(key, display + ":" + line(keyNode));
                settings = flatten(nested, key + ".", display, settings);
            } else if (value instanceof ScalarNode scalar) {
                if (!Tag.NULL.equals(scalar.getTag())) {    // "key: ~" or "key:" means: keep the default
                    settings = settings.with(key, scalar.getValue(), display + ":" + line(value));
                }
            } else if (value instanceof SequenceNode sequence && isScalarList(sequence)) {
                // Lists of scalars (allowDestination) are kept comma-joined; their items never hold commas.
                List<String> items = new ArrayList<>();
                for (Node item : sequence.getValue()) {
                    items.add(((ScalarNode) item).getValue());
                }
                settings = settings.with(key, String.join(",", items), display + ":" + line(value));
            } else if (value instanceof SequenceNode sequence && SECTION_LISTS.contains(key)
                    && isMappingList(sequence)) {
                // A list of sections (expose): item i becomes the section key.i.
                settings = settings.withSection(key, display + ":" + line(keyNode));
                List<Node> items = sequence.getValue();
                for (int i = 0; i < items.size(); i++) {
                    settings = settings.withSection(key + "." + i, display + ":" + line(items.get(i)));
                    settings = flatten((MappingNode) items.get(i), key + "." + i + ".", display, settings);
                }
            } else {
                throw new ConfigError(display + ":" + line(value) + ": " + key + ": expected a single value");
            }
        }
        return settings;
    }

    private static boolean isMappingList(SequenceNode sequence) {
        return !sequence.getValue().isEmpty() && sequence.getValue().stream().allMatch(MappingNode.class::isInstance);
    }

    private static boolean isScalarList(SequenceNode sequence) {
        for (Node item : sequence.getValue()) {
            if (!(item instanceof ScalarNode scalar) || scalar.getValue().contains(",")) {
                return false;
            }
        }
        return true;
    }

    private static int line(Node node) {
        return node.getStartMark().getLine() + 1;
    }

    private static String describe(IOException e) {
        String name = e.getClass().getSimpleName();
        return switch (name) {
            case "NoSuchFileException" -> "no such file";
            case "AccessDeniedException" -> "permission denied";
            default -> e.getMessage() != null ? e.getMessage() : name;
        };
    }
}
