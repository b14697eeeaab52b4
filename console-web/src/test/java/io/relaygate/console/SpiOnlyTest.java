package io.relaygate.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.ClassReferences;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The console uses only io.relaygate.spi of the core (DESIGN.md), checked on the compiled classes. */
class SpiOnlyTest {

    @Test
    void compiledClassesReferenceNoCorePackageButTheSpi() throws Exception {
        Path classes = Path.of("target/classes");
        assertThat(classes.resolve("io/relaygate/console/ConsolePlugin.class")).exists();
        assertThat(ClassReferences.coreReferencesOutsideSpi(classes, "io.relaygate.console")).isEmpty();
    }
}
