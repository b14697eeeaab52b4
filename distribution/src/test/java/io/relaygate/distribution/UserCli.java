package io.relaygate.distribution;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code gateway user …} of the built distribution against one data directory and configuration. */
final class UserCli {

    private final Path work;
    private final Path dataDir;
    private final Path config;

    UserCli(Path work, Path dataDir, Path config) {
        this.work = work;
        this.dataDir = dataDir;
        this.config = config;
    }

    /** {@return the exit status of {@code gateway user args…} fed {@code stdin} (null for none)} */
    int run(String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(GatewayProcess.HOME.resolve("bin/gateway").toString(), "user"));
        command.addAll(List.of(args));
        command.addAll(List.of("--data-dir=" + dataDir, "--config=" + config));
        Path in = Files.createTempFile(work, "stdin", ".txt");
        Files.writeString(in, stdin == null ? "" : stdin);
        Process process = new ProcessBuilder(command).redirectInput(in.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("gateway user hung: " + command);
        }
        return process.exitValue();
    }
}
