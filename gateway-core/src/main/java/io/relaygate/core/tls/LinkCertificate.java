package io.relaygate.core.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The remote's link certificate and key: an ECDSA P-256 self-signed certificate made at first start in the data
 * directory (the key file owner-only), or a chain and key from PEM files (a certificate from a real CA). Its
 * fingerprint, the SHA-256 of the leaf certificate, is what a local pins. Immutable.
 */
public final class LinkCertificate {

    /** The generated certificate's file in the data directory. */
    public static final String CERTIFICATE_FILE = "link-cert.pem";
    /** The generated key's file in the data directory, mode 0600. */
    public static final String KEY_FILE = "link-key.pem";
    private static final Duration VALIDITY = Duration.ofDays(3650);

    private final List<X509Certificate> chain;
    private final PrivateKey key;

    private LinkCertificate(List<X509Certificate> chain, PrivateKey key) {
        this.chain = List.copyOf(chain);
        this.key = key;
    }

    /**
     * Reads the data directory's certificate, generating it first if there is none.
     *
     * @throws IOException if the files cannot be read, written or parsed
     */
    public static LinkCertificate loadOrCreate(Path dataDir) throws IOException {
        Path certificate = dataDir.resolve(CERTIFICATE_FILE);
        Path keyFile = dataDir.resolve(KEY_FILE);
        if (!Files.exists(certificate) && !Files.exists(keyFile)) {
            generate(certificate, keyFile);
        }
        return load(certificate, keyFile);
    }

    /** {@return the data directory's certificate, or null if none was generated yet} */
    public static LinkCertificate loadIfPresent(Path dataDir) throws IOException {
        Path certificate = dataDir.resolve(CERTIFICATE_FILE);
        return Files.exists(certificate) ? load(certificate, dataDir.resolve(KEY_FILE)) : null;
    }

    /**
     * Reads a certificate chain (leaf first) and its private key from PEM files.
     *
     * @throws IOException naming the file that cannot be read or holds no certificate or key
     */
    public static LinkCertificate load(Path certificateFile, Path keyFile) throws IOException {
        List<X509Certificate> chain = readCertificates(certificateFile);
        PrivateKey key = null;
        try (Reader reader = Files.newBufferedReader(keyFile, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object item; key == null && (item = parser.readObject()) != null; ) {
                if (item instanceof PEMKeyPair pair) {
                    key = converter.getPrivateKey(pair.getPrivateKeyInfo());
                } else if (item instanceof PrivateKeyInfo info) {
                    key = converter.getPrivateKey(info);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new IOException(keyFile + ": not a PEM private key (" + e.getMessage() + ")", e);
        }
        if (key == null) {
            throw new IOException(keyFile + ": no private key in it (expected: PEM, BEGIN PRIVATE KEY)");
        }
        return new LinkCertificate(chain, key);
    }

    /**
     * {@return the certificates of a PEM file, in order}
     *
     * @throws IOException naming the file if it cannot be read or holds none
     */
    public static List<X509Certificate> readCertificates(Path certificateFile) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(certificateFile, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            for (Object item; (item = parser.readObject()) != null; ) {
                if (item instanceof X509CertificateHolder holder) {
                    chain.add(converter.getCertificate(holder));
                }
            }
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            throw new IOException(certificateFile + ": not a PEM certificate (" + e.getMessage() + ")", e);
        }
        if (chain.isEmpty()) {
            throw new IOException(certificateFile + ": no certificate in it (expected: PEM, BEGIN CERTIFICATE)");
        }
        return chain;
    }

    private static void generate(Path certificateFile, Path keyFile) throws IOException {
        KeyPair pair;
        X509Certificate certificate;
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            pair = generator.generateKeyPair();
            X500Name name = new X500Name("CN=relaygate link");
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                    new BigInteger(127, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(VALIDITY)), name, pair.getPublic());
            certificate = new JcaX509CertificateConverter().getCertificate(builder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot generate the link certificate: " + e.getMessage(), e);
        }
        // The key first and owner-only from its creation: no moment when another user could read it.
        writeNew(keyFile, pem(new JcaPKCS8Generator(pair.getPrivate(), null)), true);
        writeNew(certificateFile, pem(certificate), false);
    }

    private static String pem(Object item) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(item);
        }
        return text.toString();
    }

    private static void writeNew(Path file, String content, boolean secret) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        try {
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    secret ? "rw-------" : "rw-r--r--")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(temporary);
        }
        try (Writer writer = Files.newBufferedWriter(temporary, StandardCharsets.US_ASCII,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writer.write(content);
        }
        try {
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
    }

    /** {@return the chain, leaf first} */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** {@return the private key of the leaf} */
    public PrivateKey key() {
        return key;
    }

    /** {@return the leaf's fingerprint, {@code sha256:<64 hex digits>}} */
    public String fingerprint() {
        return fingerprint(chain.get(0));
    }

    /**
     * {@return the {@code tls-server-end-point} channel binding of {@code certificate} (RFC 5929 §4.1): its DER
     * hashed with the hash of its signature algorithm, SHA-256 for MD5, SHA-1 or anything else}
     */
    public static byte[] endPointHash(X509Certificate certificate) {
        String algorithm = certificate.getSigAlgName().toUpperCase(java.util.Locale.ROOT);
        String hash = algorithm.startsWith("SHA384") ? "SHA-384" : algorithm.startsWith("SHA512") ? "SHA-512"
                : "SHA-256";
        try {
            return MessageDigest.getInstance(hash).digest(certificate.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a certificate that was parsed encodes again", e);
        }
    }

    /** {@return {@code certificate}'s fingerprint, {@code sha256:<64 hex digits>}} */
    public static String fingerprint(X509Certificate certificate) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(certificate.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a certificate that was parsed encodes again", e);
        }
    }
}
