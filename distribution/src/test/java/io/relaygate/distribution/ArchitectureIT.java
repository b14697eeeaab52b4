package io.relaygate.distribution;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package rules of docs/architecture.md, on the compiled main classes of the core and of every plugin this
 * distribution ships (their jars are this module's dependencies). Tests and the test kit are not held to them.
 */
class ArchitectureIT {

    private static final String[] PLUGINS = {"io.relaygate.socks5..", "io.relaygate.httpconnect..",
        "io.relaygate.authsqlite..", "io.relaygate.ratelimit..", "io.relaygate.console.."};

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

    @Test
    void theReactorKnowsNothingOfTheGateway() {
        classes().that().resideInAPackage("io.relaygate.core.reactor..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.relaygate.core.reactor..", "java..",
                        "org.jctools..", "org.slf4j..")
                .check(classes);
    }

    @Test
    void theWireFormatTouchesNoChannel() {
        noClasses().that().resideInAPackage("io.relaygate.core.link..")
                .should().dependOnClassesThat().resideInAPackage("java.nio.channels..")
                .check(classes);
    }

    @Test
    void policiesKnowNoConnection() {
        // The destination policy, connection caps and login damping: no channel, no loop, no relay.
        classes().that().resideInAPackage("io.relaygate.core.policy..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.relaygate.core.policy..",
                        "io.relaygate.core.stats..", "io.relaygate.spi..", "java..", "org.slf4j..")
                .check(classes);
    }

    @Test
    void countersDependOnNothing() {
        classes().that().resideInAPackage("io.relaygate.core.stats..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.relaygate.core.stats..", "java..")
                .check(classes);
    }

    @Test
    void shapingAndAccountsSitOnTheReactorOnly() {
        classes().that().resideInAPackage("io.relaygate.core.shaping..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.relaygate.core.shaping..",
                        "io.relaygate.core.reactor..", "io.relaygate.spi..", "java..")
                .check(classes);
        classes().that().resideInAPackage("io.relaygate.core.accounts..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.relaygate.core.accounts..",
                        "io.relaygate.core.reactor..", "java..")
                .check(classes);
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.relaygate.(**)").should().beFreeOfCycles().check(classes);
    }
}
