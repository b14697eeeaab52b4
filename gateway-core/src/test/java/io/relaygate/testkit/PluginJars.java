package io.relaygate.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds plugin jars at test time from Java source, so a test can drop a plugin the gateway has never seen into a
 * plugins directory.
 */
public final class PluginJars {

    /**
     * A trivial protocol plugin named {@code bang}: a client sends {@code !host:port\n}, the gateway opens the tunnel
     * and answers {@code OK\n} (or {@code NO <outcome>\n}), then relays.
     */
    public static final String BANG_PLUGIN = """
            package example.bang;

            import io.relaygate.spi.*;
            import java.net.InetSocketAddress;
            import java.nio.ByteBuffer;
            import java.nio.charset.StandardCharsets;
            import java.util.List;

            public final class BangPlugin implements GatewayPlugin, ProtocolFactory, ProtocolEndpoint {
                public String name() { return "bang"; }
                public String version() { return "9.9"; }
                public List<ProtocolFactory> protocols() { return List.of(this); }
                public ProtocolEndpoint create(PluginConfig config, GatewayContext context) { return this; }
                public Detection detect(ByteBuffer peek) {
                    if (!peek.hasRemaining()) return Detection.NEED_MORE;
                    return peek.get(peek.position()) == '!' ? Detection.MATCH : Detection.NO_MATCH;
                }
                public ProtocolHandler newHandler(HandshakeSession session) {
                    return new ProtocolHandler() {
                        public void onBytes(ByteBuffer in) {
                            for (int i = in.position(); i < in.limit(); i++) {
                                if (in.get(i) == '\\n') {
                                    byte[] line = new byte[i - in.position() - 1];
                                    in.get(in.position() + 1, line);
                                    in.position(i + 1);
                                    String[] hostPort = new String(line, StandardCharsets.US_ASCII).split(":");
                                    session.openTunnel(Destination.parse(hostPort[0], Integer.parseInt(hostPort[1])));
                                    return;
                                }
                            }
                        }
                        public ByteBuffer tunnelReply(TunnelOutcome outcome, InetSocketAddress bound) {
                            String reply = outcome == TunnelOutcome.OK ? "OK\\n" : "NO " + outcome + "\\n";
                            return ByteBuffer.wrap(reply.getBytes(StandardCharsets.US_ASCII));
                        }
                    };
                }
            }
            """;

    private PluginJars() {
    }

    /**
     * Compiles {@code source} (one public class, {@code className}) against the test class path and writes it with
     * a service entry for {@code io.relaygate.spi.GatewayPlugin} into {@code jar}.
     */
    public static Path build(Path jar, String className, String source) {
        try {
            Path work = Files.createTempDirectory("plugin-src");
            Path file = work.resolve(className.replace('.', '/') + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, source);
            Path classes = Files.createDirectories(work.resolve("classes"));
            JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
            int status = compiler.run(null, null, null, "-d", classes.toString(), "-cp",
                    System.getProperty("java.class.path"), file.toString());
            if (status != 0) {
                throw new IllegalStateException("compiling " + className + " failed");
            }
            Files.createDirectories(jar.getParent());
            try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jarOut = new JarOutputStream(out);
                 Stream<Path> files = Files.walk(classes)) {
                for (Path classFile : files.filter(Files::isRegularFile).toList()) {
                    jarOut.putNextEntry(new JarEntry(classes.relativize(classFile).toString().replace('\\', '/')));
                    jarOut.write(Files.readAllBytes(classFile));
                    jarOut.closeEntry();
                }
                jarOut.putNextEntry(new JarEntry("META-INF/services/io.relaygate.spi.GatewayPlugin"));
                jarOut.write((className + "\n").getBytes(StandardCharsets.UTF_8));
                jarOut.closeEntry();
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@return the jars of the class path whose file name contains {@code part}} */
    public static List<Path> classPathJars(String part) {
        return Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .map(Path::of).filter(p -> p.getFileName().toString().contains(part)).toList();
    }
}
