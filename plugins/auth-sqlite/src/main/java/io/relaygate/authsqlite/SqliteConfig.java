package io.relaygate.authsqlite;

import io.relaygate.spi.PluginConfig;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The SQLite store's settings.
 *
 * @param file          the database file; default {@code <data-dir>/gateway.db}
 * @param busyTimeout   how long a write waits for another writer (another process, the CLI) before failing
 * @param poolSize      pooled connections
 * @param pollInterval  how often the change feed looks for other connections' commits
 */
record SqliteConfig(Path file, Duration busyTimeout, int poolSize, Duration pollInterval) {

    static SqliteConfig from(PluginConfig c, Path dataDir) {
        Path file = dataDir.resolve(c.getString("file", "gateway.db"));
        Duration busy = c.getDuration("busyTimeout", Duration.ofSeconds(5), Duration.ZERO, Duration.ofMinutes(10));
        int pool = (int) c.getLong("poolSize", 4, 1, 64);
        Duration poll = c.getDuration("pollInterval", Duration.ofMillis(250), Duration.ofMillis(10),
                Duration.ofSeconds(10));
        return new SqliteConfig(file, busy, pool, poll);
    }
}
