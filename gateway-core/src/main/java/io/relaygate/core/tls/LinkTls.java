package io.relaygate.core.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The link's TLS settings: TLS 1.3 only, the remote's certificate on the server side, and on the client side a
 * remote pinned by its fingerprint. Thread-safe; each engine is for one connection.
 */
public final class LinkTls {

    private static final String[] PROTOCOLS = {"TLSv1.3"};

    private final SSLContext context;
    private final boolean server;
    /** The server's own channel binding; null on the client, which takes it from each session. */
    private final byte[] serverEndPoint;

    private LinkTls(SSLContext context, boolean server, byte[] serverEndPoint) {
        this.context = context;
        this.server = server;
        this.serverEndPoint = serverEndPoint;
    }

    /** {@return the server's {@code tls-server-end-point} channel binding, the same for every link} */
    public byte[] serverEndPoint() {
        return serverEndPoint.clone();
    }

    /**
     * {@return the {@code tls-server-end-point} channel binding of the certificate the client saw in {@code session}}
     *
     * @throws SSLPeerUnverifiedException if the session has no verified peer certificate
     */
    public static byte[] clientEndPoint(SSLSession session) throws SSLPeerUnverifiedException {
        return LinkCertificate.endPointHash((X509Certificate) session.getPeerCertificates()[0]);
    }

    /** {@return the remote's side, presenting {@code certificate}} */
    public static LinkTls server(LinkCertificate certificate) throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException("an empty key store cannot be made", e);
        }
        char[] password = new char[0];
        store.setKeyEntry("link", certificate.key(), password, certificate.chain().toArray(X509Certificate[]::new));
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(keys.getKeyManagers(), null, null);
        return new LinkTls(context, true, LinkCertificate.endPointHash(certificate.chain().get(0)));
    }

    /** {@return the local's side, accepting exactly the remote whose leaf certificate has {@code fingerprint}} */
    public static LinkTls pinned(String fingerprint) throws GeneralSecurityException {
        return client(new PinnedTrust(fingerprint), false);
    }

    /**
     * {@return the local's side, trusting on first use: the first remote seen for {@code remoteName} is recorded in
     * {@code knownRemotes}, and later handshakes must present the same certificate (as ssh's accept-new)}
     */
    public static LinkTls firstUse(KnownRemotes knownRemotes, String remoteName) throws GeneralSecurityException {
        return client(new FirstUseTrust(knownRemotes, remoteName), false);
    }

    /**
     * {@return the local's side, trusting a remote whose chain leads to a certificate of {@code caFile} (PEM) and
     * whose certificate names the host the local dials}
     */
    public static LinkTls certificateAuthority(Path caFile) throws GeneralSecurityException, IOException {
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        int n = 0;
        for (X509Certificate ca : LinkCertificate.readCertificates(caFile)) {
            anchors.setCertificateEntry("ca" + n++, ca);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(anchors);
        return client(factory.getTrustManagers()[0], true);
    }

    private static LinkTls client(TrustManager trust, boolean checkHostName) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(null, new TrustManager[] {trust}, null);
        LinkTls tls = new LinkTls(context, false, null);
        tls.checkHostName = checkHostName;
        return tls;
    }

    /** Whether the client checks that the certificate names the host it dialled (CA mode; a pin needs no name). */
    private boolean checkHostName;

    /** {@return a new engine for one connection; {@code peerHost} names the remote for a client, or is null} */
    public SSLEngine engine(String peerHost, int peerPort) {
        SSLEngine engine = peerHost == null ? context.createSSLEngine() : context.createSSLEngine(peerHost, peerPort);
        engine.setUseClientMode(!server);
        engine.setEnabledProtocols(PROTOCOLS);
        if (checkHostName) {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(parameters);
        }
        return engine;
    }

    /** {@return the context, for blocking clients such as tests and tools} */
    public SSLContext context() {
        return context;
    }

    /** Trusts one leaf certificate by its SHA-256 fingerprint and nothing else; no CA, no name check. */
    private static final class PinnedTrust extends LeafTrust {
        private final String fingerprint;

        PinnedTrust(String fingerprint) {
            this.fingerprint = fingerprint;
        }

        @Override
        void checkLeaf(String got) throws CertificateException {
            if (!got.equalsIgnoreCase(fingerprint)) {
                throw new CertificateException("the remote's certificate is " + got + ", expected " + fingerprint);
            }
        }
    }

    /** Trusts the first certificate a remote presents, recorded, and only that one afterwards. */
    private static final class FirstUseTrust extends LeafTrust {
        private final KnownRemotes known;
        private final String remoteName;

        FirstUseTrust(KnownRemotes known, String remoteName) {
            this.known = known;
            this.remoteName = remoteName;
        }

        @Override
        void checkLeaf(String got) throws CertificateException {
            String recorded;
            try {
                recorded = known.recordIfNew(remoteName, got);
            } catch (java.io.UncheckedIOException e) {
                throw new CertificateException("cannot record the remote's certificate: " + e.getMessage(), e);
            }
            if (!recorded.equals(got)) {
                throw new CertificateException("the remote's certificate changed: it is " + got + ", but "
                        + remoteName + " was first seen with " + recorded + " (" + known.file() + "); if the remote"
                        + " was reinstalled on purpose, remove that line");
            }
        }
    }

    /** A trust decision on the leaf's fingerprint alone. */
    private abstract static class LeafTrust extends X509ExtendedTrustManager {

        abstract void checkLeaf(String fingerprint) throws CertificateException;

        private void check(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("the remote sent no certificate");
            }
            checkLeaf(LinkCertificate.fingerprint(chain[0]));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("the link does not authenticate locals by certificate");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("the link does not authenticate locals by certificate");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("the link does not authenticate locals by certificate");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
