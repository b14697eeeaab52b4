package io.relaygate.core.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.ClassReferences;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The SPI-only check that plugins run can fail: the core's own classes use far more than the SPI. */
class ClassReferencesTest {

    @Test
    void findsCoreReferencesOutsideTheSpi() throws Exception {
        assertThat(ClassReferences.coreReferencesOutsideSpi(Path.of("target/classes/io/relaygate/core/cli"),
                "io.relaygate.core.cli")).anyMatch(ref -> ref.contains("io/relaygate/core/Gateway"));
        assertThat(ClassReferences.coreReferencesOutsideSpi(Path.of("target/classes/io/relaygate/spi"),
                "io.relaygate.spi")).isEmpty();
    }
}
