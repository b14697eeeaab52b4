package io.relaygate.testkit;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Reads the class names that compiled classes refer to, from their constant pools (JVMS §4.4), so a test can hold a
 * plugin to the SPI: the only package of the core it may use is {@code io.relaygate.spi}.
 */
public final class ClassReferences {

    private ClassReferences() {
    }

    /**
     * {@return every {@code io/relaygate/...} name mentioned by the classes under {@code classesDir} (class
     * references and descriptors) that is outside {@code io/relaygate/spi/} and outside {@code ownPackage}}
     */
    public static Set<String> coreReferencesOutsideSpi(Path classesDir, String ownPackage) throws IOException {
        Set<String> offending = new TreeSet<>();
        String own = ownPackage.replace('.', '/') + "/";
        try (Stream<Path> files = Files.walk(classesDir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                for (String utf8 : utf8Constants(file)) {
                    int at = utf8.indexOf("io/relaygate/");
                    while (at >= 0) {
                        String rest = utf8.substring(at);
                        if (!rest.startsWith("io/relaygate/spi/") && !rest.startsWith(own)) {
                            int end = rest.indexOf(';');
                            offending.add(file.getFileName() + " -> " + (end < 0 ? rest : rest.substring(0, end)));
                        }
                        at = utf8.indexOf("io/relaygate/", at + 1);
                    }
                }
            }
        }
        return offending;
    }

    /** {@return the CONSTANT_Utf8 entries of a class file, where class names and descriptors live} */
    static Set<String> utf8Constants(Path classFile) throws IOException {
        Set<String> strings = new TreeSet<>();
        try (InputStream raw = Files.newInputStream(classFile); DataInputStream in = new DataInputStream(raw)) {
            if (in.readInt() != 0xCAFEBABE) {
                throw new IOException("not a class file: " + classFile);
            }
            in.readUnsignedShort();
            in.readUnsignedShort();
            int count = in.readUnsignedShort();
            for (int i = 1; i < count; i++) {
                int tag = in.readUnsignedByte();
                switch (tag) {
                    case 1 -> strings.add(in.readUTF());
                    case 7, 8, 16, 19, 20 -> in.skipNBytes(2);
                    case 15 -> in.skipNBytes(3);
                    case 3, 4, 9, 10, 11, 12, 17, 18 -> in.skipNBytes(4);
                    case 5, 6 -> {
                        in.skipNBytes(8);
                        i++;        // longs and doubles take two entries
                    }
                    default -> throw new IOException("unknown constant tag " + tag + " in " + classFile);
                }
            }
        }
        return strings;
    }
}
