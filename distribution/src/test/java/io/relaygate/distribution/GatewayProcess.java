package io.relaygate.distribution;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** The built distribution's {@code bin/gateway}, run as a real process, with its output captured. */
final class GatewayProcess implements AutoCloseable {

    /** The assembled distribution directory (set by failsafe). */
    static final Path HOME = Path.of(System.getProperty("relaygate.distribution",
            "target/relaygate-0.1.0-SNAPSHOT"));

    private final Process process;
    private final List<String> stdout = Collections.synchronizedList(new ArrayList<>());
    private final Path stderr;
    private final Map<String, InetSocketAddress> listeners = new ConcurrentHashMap<>();
    private final CountDownLatch listening = new CountDownLatch(1);
    private volatile String fingerprint;

    private GatewayProcess(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
        Thread reader = new Thread(this::readStdout, "gateway-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** Unpacks the built tarball into {@code dir}. {@return the installation it holds} */
    static Path unpackTarball(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Process tar = new ProcessBuilder("tar", "-xzf", System.getProperty("relaygate.tarball"), "-C", dir.toString())
                .inheritIO().start();
        if (!tar.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || tar.exitValue() != 0) {
            throw new IOException("tar could not unpack " + System.getProperty("relaygate.tarball"));
        }
        return dir.resolve(HOME.getFileName());
    }

    /** Starts {@code <home>/bin/gateway args…} in {@code workDir}. */
    static GatewayProcess start(Path home, Path workDir, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/gateway").toString());
        command.addAll(List.of(args));
        return start(new ProcessBuilder(command), workDir);
    }

    /** Starts a process built by the caller (e.g. the launcher under a wrapper that lowers its limits). */
    static GatewayProcess start(ProcessBuilder builder, Path workDir) throws IOException {
        Path err = Files.createTempFile("gateway", ".err");
        builder.directory(workDir.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().merge("JAVA_OPTS", "-Xmx256m", (given, heap) -> heap + " " + given);
        return new GatewayProcess(builder.start(), err);
    }

    /** Starts the gateway as a local proxy on an OS-chosen port, with the console off, and waits until it listens. */
    static GatewayProcess startLocal(Path workDir, String... extraArgs) throws IOException {
        List<String> args = new ArrayList<>(List.of("--role=local", "--listen=127.0.0.1:0", "--console=off",
                "--data-dir=" + workDir.resolve("data")));
        args.addAll(List.of(extraArgs));
        GatewayProcess gateway = start(HOME, workDir, args.toArray(String[]::new));
        gateway.awaitListening();
        return gateway;
    }

    private void readStdout() {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                stdout.add(line);
                if (line.startsWith("link fingerprint ")) {
                    fingerprint = line.substring("link fingerprint ".length()).trim();
                }
                if (line.startsWith("listening ")) {
                    String[] parts = line.split(" ");
                    String hostPort = parts[2];
                    int colon = hostPort.lastIndexOf(':');
                    String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
                    listeners.put(parts[1], new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1))));
                    listening.countDown();
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    void awaitListening() {
        try {
            if (!listening.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the gateway did not listen within 30 s; stderr:\n" + stderr());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Waits until the listener called {@code name} is announced, e.g. {@code console} after the proxy's. */
    void awaitListener(String name) {
        io.relaygate.testkit.Await.until("listener " + name, java.time.Duration.ofSeconds(30),
                () -> listeners.containsKey(name) || !process.isAlive());
        if (!listeners.containsKey(name)) {
            throw new AssertionError("no listener " + name + "; stderr:\n" + stderr());
        }
    }

    /** {@return the address of the listener called {@code name}, waiting for its line: they come one by one} */
    InetSocketAddress address(String name) {
        if (!listeners.containsKey(name)) {
            io.relaygate.testkit.Await.until("listener " + name, java.time.Duration.ofSeconds(30),
                    () -> listeners.containsKey(name) || !process.isAlive());
        }
        InetSocketAddress address = listeners.get(name);
        if (address == null) {
            throw new AssertionError("no listener " + name + " in " + stdout);
        }
        return address;
    }

    /**
     * {@return the remote's {@code --remote-fingerprint=…} flag, from the {@code link fingerprint} line it prints
     * before its listeners}
     */
    String fingerprintFlag() {
        awaitListening();
        if (fingerprint == null) {
            throw new AssertionError("no link fingerprint line in " + stdout);
        }
        return "--remote-fingerprint=" + fingerprint;
    }

    /** Sends SIGTERM. */
    void terminate() {
        process.destroy();
    }

    /** Sends SIGHUP, as {@code systemctl reload} does: the gateway reads its configuration again. */
    void hangUp() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -HUP " + process.pid() + " failed");
        }
    }

    /** Sends SIGKILL: no shutdown hook, no flush, as a crash would. */
    void kill9() {
        process.destroyForcibly();
    }

    /** {@return the exit status, waiting at most {@code seconds}} */
    int awaitExit(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the gateway did not exit within " + seconds + " s; stderr:\n" + stderr());
        }
        return process.exitValue();
    }

    long pid() {
        return process.pid();
    }

    List<String> stdout() {
        return List.copyOf(stdout);
    }

    String stderr() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
