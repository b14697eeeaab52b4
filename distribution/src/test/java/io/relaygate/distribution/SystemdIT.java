package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Await;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped systemd units: {@code systemd-analyze verify} accepts them (with the installation's path put in), and
 * the gateway runs as the unit runs it — its command line and environment, a non-root user, the configuration,
 * data and log directories the unit names (moved into a scratch directory) — on loopback.
 */
@Timeout(120)
class SystemdIT {

    private static final List<String> ROLES = List.of("local", "remote");
    /** As root the gateway runs as nobody, as the unit's User= would; otherwise as this (non-root) user. */
    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    @TempDir
    Path work;

    /** {@return the unit's text with the installation and the system paths moved to this test's} */
    private String unit(String role, Path etc, Path state, Path logs) throws IOException {
        return Files.readString(GatewayProcess.HOME.resolve("systemd/relaygate-" + role + ".service"))
                .replace("/opt/relaygate", GatewayProcess.HOME.toString())
                .replace("/etc/relaygate", etc.toString())
                .replace("/var/lib/relaygate", state.toString())
                .replace("/var/log/relaygate", logs.toString());
    }

    private Path open(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    @Test
    void systemdAnalyzeVerifiesBothUnits() throws Exception {
        for (String role : ROLES) {
            Path file = work.resolve("relaygate-" + role + ".service");
            Files.writeString(file, unit(role, work, work, work));
            Process verify = new ProcessBuilder("systemd-analyze", "verify", file.toString()).redirectErrorStream(true)
                    .start();
            String output = new String(verify.getInputStream().readAllBytes());
            assertThat(verify.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(verify.exitValue()).as(role + ": " + output).isZero();
            assertThat(output).as(role).doesNotContainIgnoringCase("error").doesNotContainIgnoringCase("unknown");
        }
    }

    @Test
    void bothRolesRunAsTheUnitsRunThemUnderAnUnprivilegedUser() throws Exception {
        open(work);
        for (String role : ROLES) {
            Path etc = open(work.resolve(role + "/etc"));
            // StateDirectory= and LogsDirectory= make these the service user's own.
            Path state = serviceUsers(open(work.resolve(role + "/state")));
            Path logs = serviceUsers(open(work.resolve(role + "/logs")));
            Files.writeString(etc.resolve("gateway.yaml"), "listen: 127.0.0.1:0\nconsole: off\n");
            String unit = unit(role, etc, state, logs);
            List<String> command = new ArrayList<>();
            if (ROOT) {
                // As User=relaygate would: no root, no extra groups.
                command.addAll(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"));
            }
            command.addAll(List.of(line(unit, "ExecStart=").split(" ")));
            ProcessBuilder builder = new ProcessBuilder(command);
            String environment = line(unit, "Environment=");
            String javaOpts = environment.substring(environment.indexOf("JAVA_OPTS=") + 10, environment.length() - 1);
            builder.environment().put("JAVA_OPTS", javaOpts);
            try (GatewayProcess gateway = GatewayProcess.start(builder, open(work.resolve(role + "/cwd")))) {
                gateway.awaitListening();
                String listener = role.equals("local") ? "mixed" : "link";
                try (Socket socket = new Socket(gateway.address(listener).getAddress(),
                        gateway.address(listener).getPort())) {
                    assertThat(socket.isConnected()).isTrue();
                }
                Await.until(role + ": the log in the unit's log directory", Duration.ofSeconds(10),
                        () -> Files.exists(logs.resolve("gateway.log")));
                assertThat(Files.readString(logs.resolve("gateway.log"))).contains("gateway started: role " + role);
                if (role.equals("remote")) {
                    assertThat(state.resolve("gateway.db")).as("the account store in the state directory").exists();
                }
                // systemctl reload runs ExecReload with the service's main PID.
                Files.writeString(etc.resolve("gateway.yaml"), "listen: 127.0.0.1:0\nconsole: off\nlogLevel: info\n");
                Process reload = new ProcessBuilder(line(unit, "ExecReload=").replace("$MAINPID",
                        String.valueOf(gateway.pid())).split(" ")).inheritIO().start();
                assertThat(reload.waitFor(10, TimeUnit.SECONDS)).isTrue();
                assertThat(reload.exitValue()).isZero();
                Path log = logs.resolve("gateway.log");
                Await.until(role + ": the reload in the log", Duration.ofSeconds(10), () -> {
                    try {
                        return Files.readString(log).contains("SIGHUP: configuration reloaded; applied to what"
                                + " starts from now on: logLevel");
                    } catch (IOException e) {
                        return false;
                    }
                });
                gateway.terminate();
                assertThat(gateway.awaitExit(60)).isZero();
            }
        }
    }

    private static Path serviceUsers(Path dir) throws IOException {
        if (ROOT) {
            var users = dir.getFileSystem().getUserPrincipalLookupService();
            Files.setOwner(dir, users.lookupPrincipalByName("nobody"));
            Files.getFileAttributeView(dir, java.nio.file.attribute.PosixFileAttributeView.class)
                    .setGroup(users.lookupPrincipalByGroupName("nogroup"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        return dir;
    }

    private static String line(String unit, String prefix) {
        return unit.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow().substring(prefix.length());
    }
}
