package io.relaygate.distribution;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real curl. */
final class Curl {

    /** What a curl run produced; {@code body} holds the body as text when it is short (a few KiB), else null. */
    record Result(int exit, String sha256, long size, String stdout, String stderr, String body) {
    }

    private Curl() {
    }

    static Result run(Path workDir, String... args) throws IOException, InterruptedException {
        Path body = Files.createTempFile(workDir, "curl", ".body");
        Path err = Files.createTempFile(workDir, "curl", ".err");
        Path out = Files.createTempFile(workDir, "curl", ".out");
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "60", "--connect-timeout", "5",
                "-o", body.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectError(err.toFile())
                .redirectOutput(out.toFile()).start();
        if (!process.waitFor(90, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("curl hung: " + command);
        }
        byte[] bytes = Files.readAllBytes(body);
        String sha;
        try {
            sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Result result = new Result(process.exitValue(), sha, bytes.length,
                Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8),
                bytes.length <= 4096 ? new String(bytes, StandardCharsets.UTF_8) : null);
        Files.delete(body);
        Files.delete(out);
        Files.delete(err);
        return result;
    }
}
