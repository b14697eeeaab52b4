package io.relaygate.core.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a local trusts its remote, against real TLS 1.3 handshakes: a pinned fingerprint, trust on first use (recorded
 * once, a changed certificate refused), and a CA (a test CA; a host name mismatch and an expired certificate refused).
 */
@Timeout(60)
class TrustModesTest {

    @TempDir
    Path dir;

    /** Serves one TLS handshake with {@code certificate} and {@return whether the client's handshake succeeded} */
    private static void handshake(LinkCertificate certificate, LinkTls client, String host) throws Exception {
        try (SSLServerSocket server = (SSLServerSocket) LinkTls.server(certificate).context().getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            server.setEnabledProtocols(new String[] {"TLSv1.3"});
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (SSLSocket accepted = (SSLSocket) server.accept()) {
                    accepted.setSoTimeout(10_000);
                    accepted.startHandshake();
                    accepted.getOutputStream().write(1);
                    accepted.getInputStream().read();
                } catch (IOException e) {
                    // the client refused: its side says why
                }
            });
            SSLEngine template = client.engine(host, server.getLocalPort());
            try (SSLSocket socket = (SSLSocket) client.context().getSocketFactory().createSocket(
                    InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                socket.setSoTimeout(10_000);
                socket.setSSLParameters(template.getSSLParameters());
                if (host != null) {
                    javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
                    parameters.setServerNames(java.util.List.of(new javax.net.ssl.SNIHostName(host)));
                    socket.setSSLParameters(parameters);
                }
                socket.startHandshake();
                assertThat(socket.getInputStream().read()).isEqualTo(1);
                socket.getOutputStream().write(2);
            }
            served.get(10, TimeUnit.SECONDS);
        }
    }

    private LinkCertificate selfSigned(String name) throws IOException {
        return LinkCertificate.loadOrCreate(Files.createDirectories(dir.resolve(name)));
    }

    @Test
    void aPinAcceptsItsCertificateOnly() throws Exception {
        LinkCertificate remote = selfSigned("remote");
        handshake(remote, LinkTls.pinned(remote.fingerprint()), null);
        LinkCertificate other = selfSigned("other");
        assertThatThrownBy(() -> handshake(other, LinkTls.pinned(remote.fingerprint()), null))
                .isInstanceOf(SSLException.class).hasMessageContaining(other.fingerprint());
    }

    @Test
    void firstUseRecordsTheFirstRemoteAndRefusesAChangedOne() throws Exception {
        KnownRemotes known = new KnownRemotes(dir.resolve(KnownRemotes.FILE));
        LinkCertificate remote = selfSigned("remote");
        handshake(remote, LinkTls.firstUse(known, "server.example:7080"), null);
        assertThat(known.recorded("server.example:7080")).isEqualTo(remote.fingerprint());
        handshake(remote, LinkTls.firstUse(known, "server.example:7080"), null);
        LinkCertificate reinstalled = selfSigned("reinstalled");
        assertThatThrownBy(() -> handshake(reinstalled, LinkTls.firstUse(known, "server.example:7080"), null))
                .isInstanceOf(SSLException.class).hasMessageContaining("changed")
                .hasMessageContaining(remote.fingerprint());
        assertThat(known.recorded("server.example:7080")).as("the first one stays on record")
                .isEqualTo(remote.fingerprint());
        handshake(reinstalled, LinkTls.firstUse(known, "other.example:7080"), null);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
                known.file()))).isEqualTo("rw-------");
    }

    /** A test CA and a certificate it signs for {@code dnsName}, valid from {@code from} to {@code to}. */
    private LinkCertificate signedByCa(Path caFile, String dnsName, Instant from, Instant to) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair caKeys = generator.generateKeyPair();
        X500Name caName = new X500Name("CN=relaygate test CA");
        JcaX509v3CertificateBuilder ca = new JcaX509v3CertificateBuilder(caName, BigInteger.ONE,
                Date.from(Instant.now().minus(Duration.ofDays(2))), Date.from(Instant.now().plus(Duration.ofDays(2))),
                caName, caKeys.getPublic());
        ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        X509Certificate caCertificate = new JcaX509CertificateConverter().getCertificate(ca.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
        KeyPair leafKeys = generator.generateKeyPair();
        JcaX509v3CertificateBuilder leaf = new JcaX509v3CertificateBuilder(caName, BigInteger.TWO, Date.from(from),
                Date.from(to), new X500Name("CN=" + dnsName), leafKeys.getPublic());
        leaf.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(
                GeneralName.dNSName, dnsName)));
        X509Certificate leafCertificate = new JcaX509CertificateConverter().getCertificate(leaf.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
        Files.writeString(caFile, pem(caCertificate));
        Path chain = Files.writeString(dir.resolve(dnsName + "-" + to.getEpochSecond() + ".pem"),
                pem(leafCertificate) + pem(caCertificate));
        Path key = Files.writeString(dir.resolve(dnsName + "-" + to.getEpochSecond() + ".key"),
                pem(new JcaPKCS8Generator(leafKeys.getPrivate(), null)));
        return LinkCertificate.load(chain, key);
    }

    private static String pem(Object item) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(item);
        }
        return text.toString();
    }

    @Test
    void aCaTrustsWhatItSignedForTheDialledNameOnlyAndOnlyWhileValid() throws Exception {
        Path caFile = dir.resolve("ca.pem");
        Instant now = Instant.now();
        LinkCertificate valid = signedByCa(caFile, "remote.test", now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(1)));
        handshake(valid, LinkTls.certificateAuthority(caFile), "remote.test");
        assertThatThrownBy(() -> handshake(valid, LinkTls.certificateAuthority(caFile), "another.test"))
                .as("a host name mismatch").isInstanceOf(SSLException.class);
        Path otherCa = dir.resolve("other-ca.pem");
        LinkCertificate expired = signedByCa(otherCa, "remote.test", now.minus(Duration.ofDays(2)),
                now.minus(Duration.ofDays(1)));
        assertThatThrownBy(() -> handshake(expired, LinkTls.certificateAuthority(otherCa), "remote.test"))
                .as("an expired certificate").isInstanceOf(SSLException.class);
        LinkCertificate selfSigned = selfSigned("self");
        assertThatThrownBy(() -> handshake(selfSigned, LinkTls.certificateAuthority(caFile), "remote.test"))
                .as("a certificate the CA did not sign").isInstanceOf(SSLException.class);
    }
}
