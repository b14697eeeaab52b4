package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.relaygate.core.ConfigReload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The shipped, commented conf/gateway.yaml lists every key the README's configuration reference documents. */
class ConfigFileIT {

    private static final Pattern YAML_KEY = Pattern.compile("^#( +)([A-Za-z][A-Za-z0-9]*):");
    private static final Pattern README_ROW = Pattern.compile("^\\| (`[a-zA-Z][^|]*`) \\|");
    private static final Pattern README_KEY = Pattern.compile("`([a-zA-Z][A-Za-z0-9.]*)`");

    /** {@return the dotted paths of the keys commented out in the file, nesting taken from the indentation} */
    static Set<String> commentedKeys(Path yaml) throws Exception {
        Set<String> keys = new LinkedHashSet<>();
        Deque<String[]> parents = new ArrayDeque<>();       // {indent, name}
        for (String line : Files.readAllLines(yaml)) {
            Matcher m = YAML_KEY.matcher(line);
            if (!m.find()) {
                continue;
            }
            int indent = m.group(1).length();
            while (!parents.isEmpty() && Integer.parseInt(parents.peek()[0]) >= indent) {
                parents.pop();
            }
            StringBuilder path = new StringBuilder();
            parents.descendingIterator().forEachRemaining(p -> path.append(p[1]).append('.'));
            keys.add(path.append(m.group(2)).toString());
            parents.push(new String[] {String.valueOf(indent), m.group(2)});
        }
        return keys;
    }

    @Test
    void everyDocumentedKeyIsInTheCommentedFile() throws Exception {
        Set<String> inFile = commentedKeys(GatewayProcess.HOME.resolve("conf/gateway.yaml"));
        Path readme = Path.of(System.getProperty("relaygate.readme", "../README.md"));
        Set<String> documented = new LinkedHashSet<>();
        boolean inReference = false;
        for (String line : Files.readAllLines(readme)) {
            if (line.startsWith("## ")) {
                inReference = line.equals("## Configuration reference");
            }
            Matcher row = README_ROW.matcher(line);
            if (inReference && row.find()) {
                Matcher key = README_KEY.matcher(row.group(1));
                while (key.find()) {
                    documented.add(key.group(1));
                }
            }
        }
        assertThat(documented).as("the README's reference table").hasSizeGreaterThan(60);
        assertThat(inFile).as("conf/gateway.yaml").containsAll(documented);
        // Each is either applied by a SIGHUP or named as waiting for a restart: none falls between.
        for (String key : documented) {
            assertThatCode(() -> ConfigReload.appliesLive(key)).as(key).doesNotThrowAnyException();
        }
        assertThat(documented.stream().filter(ConfigReload::appliesLive)).as("README: Reloading").containsExactlyInAnyOrder(
                "rateLimit", "logLevel", "allowDestination", "timeouts.handshake", "timeouts.connect", "timeouts.dns",
                "timeouts.idle", "timeouts.halfClosed", "timeouts.drain", "limits.maxConnections",
                "limits.maxHandshakesPerSource", "limits.authFailuresBeforeDelay", "limits.authFailuresBeforeRefusal",
                "limits.maxLinksPerUser", "udp.idle", "udp.maxAssociationsPerUser", "udp.maxAssociationsPerSource",
                "udp.maxPacketsPerSecond");
    }
}
