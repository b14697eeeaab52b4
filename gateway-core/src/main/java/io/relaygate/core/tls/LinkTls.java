package io.relaygate.core.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
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
        } catch (java.io.IOException e) {
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
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(null, new TrustManager[] {new PinnedTrust(fingerprint)}, null);
        return new LinkTls(context, false, null);
    }

    /** {@return a new engine for one connection; {@code peerHost} names the remote for a client, or is null} */
    public SSLEngine engine(String peerHost, int peerPort) {
        SSLEngine engine = peerHost == null ? context.createSSLEngine() : context.createSSLEngine(peerHost, peerPort);
        engine.setUseClientMode(!server);
        engine.setEnabledProtocols(PROTOCOLS);
        return engine;
    }

    /** {@return the context, for blocking clients such as tests and tools} */
    public SSLContext context() {
        return context;
    }

    /** Trusts one leaf certificate by its SHA-256 fingerprint and nothing else; no CA, no name check. */
    private static final class PinnedTrust extends X509ExtendedTrustManager {
        private final String fingerprint;

        PinnedTrust(String fingerprint) {
            this.fingerprint = fingerprint;
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("the remote sent no certificate");
            }
            String got = LinkCertificate.fingerprint(chain[0]);
            if (!got.equalsIgnoreCase(fingerprint)) {
                throw new CertificateException("the remote's certificate is " + got + ", expected " + fingerprint);
            }
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
