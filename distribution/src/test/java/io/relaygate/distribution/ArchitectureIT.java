package io.relaygate.distribution;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package rules of docs/architecture.md, on the compiled main classes of the core and of every plugin this
 * distribution ships (their jars are this module's dependencies). Tests and the test kit are not held to them.
 */
class ArchitectureIT {

    /** The plugins, and the library the account-store plugins share (held to the same rules). */
    private static final String[] PLUGINS = {"io.relaygate.socks5..", "io.relaygate.httpconnect..",
        "io.relaygate.authsqlite..", "io.relaygate.authpostgres..", "io.relaygate.accountjdbc..",
        "io.relaygate.ratelimit..", "io.relaygate.ratelimitredis..", "io.relaygate.console.."};

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(location -> !location.contains("/test-classes/") && !location.contains("-tests.jar"))
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.relaygate");
        // A rule over nothing would pass: make sure the core and each plugin were found.
        assertThat(classes.contain("io.relaygate.core.Gateway")).isTrue();
        assertThat(classes.contain("io.relaygate.socks5.Socks5Plugin")).isTrue();
        assertThat(classes.contain("io.relaygate.console.ConsolePlugin")).isTrue();
        assertThat(classes.contain("io.relaygate.testkit.Closer")).as("the test kit is left out").isFalse();
    }

    @Test
    void theSpiUsesOnlyTheJdk() {
        classes().that().resideInAPackage("io.relaygate.spi..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.relaygate.spi..", "java..", "javax..")
                .check(classes);
    }

    @Test
    void pluginsUseOnlyTheSpiOfTheCore() {
        noClasses().that().resideInAnyPackage(PLUGINS)
                .should().dependOnClassesThat().resideInAPackage("io.relaygate.core..")
                .check(classes);
    }

    @Test
    void theCoreNeverNamesAPlugin() {
        noClasses().that().resideInAnyPackage("io.relaygate.core..", "io.relaygate.spi..")
                .should().dependOnClassesThat().resideInAnyPackage(PLUGINS)
                .check(classes);
    }

    /**
     * The core's layers, lowest first: each package may use the JDK, SLF4J and the packages listed for it, nothing
     * else of the gateway. The connection packages sit on the byte port of {@code net}; nothing below {@code link}
     * knows the link, nothing below the root knows the whole gateway.
     */
    private static final Map<String, List<String>> LAYERS = layers(
            "reactor", List.of("org.jctools.."),
            "stats", List.of(),
            "policy", List.of("stats", "spi"),
            "shaping", List.of("reactor", "spi"),
            "accounts", List.of("reactor", "shaping", "spi"),
            "wire", List.of("spi"),
            "tls", List.of("org.bouncycastle.."),
            "net", List.of("reactor", "policy", "stats"),
            "outbound", List.of("net", "reactor", "policy", "spi"),
            "relay", List.of("net", "reactor", "shaping", "stats", "accounts", "policy"),
            "inbound", List.of("net", "outbound", "relay", "reactor", "policy", "stats", "shaping", "accounts", "spi"),
            "link", List.of("wire", "tls", "net", "outbound", "relay", "reactor", "policy", "stats", "accounts",
                    "shaping", "config", "spi"),
            "admin", List.of("link", "tls", "net", "outbound", "reactor", "stats", "shaping", "accounts", "policy",
                    "config", "wire", "spi"));

    @Test
    void eachLayerUsesOnlyTheLayersBelowIt() {
        LAYERS.forEach((layer, allowed) -> {
            List<String> packages = new ArrayList<>(List.of("io.relaygate.core." + layer + "..", "java..", "javax..",
                    "org.slf4j.."));
            for (String below : allowed) {
                packages.add(below.contains(".") ? below : below.equals("spi") ? "io.relaygate.spi.."
                        : "io.relaygate.core." + below + "..");
            }
            classes().that().resideInAPackage("io.relaygate.core." + layer + "..")
                    .should().onlyDependOnClassesThat().resideInAnyPackage(packages.toArray(String[]::new))
                    .as("core." + layer + " uses only " + allowed)
                    .check(classes);
        });
    }

    @Test
    void theWireFormatTouchesNoChannel() {
        noClasses().that().resideInAPackage("io.relaygate.core.wire..")
                .should().dependOnClassesThat().resideInAPackage("java.nio.channels..")
                .check(classes);
    }

    @Test
    void onlyTheNetLayerAndTheDialerTouchChannels() {
        // Everything above a port works on ports: a TLS port or a link stream slots in without touching it.
        noClasses().that().resideInAnyPackage("io.relaygate.core.relay..", "io.relaygate.core.link..",
                        "io.relaygate.core.inbound..", "io.relaygate.core.admin..")
                .should().dependOnClassesThat().resideInAPackage("java.nio.channels..")
                .check(classes);
    }

    private static Map<String, List<String>> layers(Object... pairs) {
        Map<String, List<String>> layers = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            @SuppressWarnings("unchecked")
            List<String> allowed = (List<String>) pairs[i + 1];
            layers.put((String) pairs[i], allowed);
        }
        return layers;
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.relaygate.(**)").should().beFreeOfCycles().check(classes);
    }
}
