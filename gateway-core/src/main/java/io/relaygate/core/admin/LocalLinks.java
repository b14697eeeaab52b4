package io.relaygate.core.admin;

import io.relaygate.core.config.ConsoleSettings;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.config.HostPort;
import io.relaygate.core.link.LinkConnector;
import io.relaygate.core.link.ExposedServices;
import io.relaygate.core.link.LinkHealth;
import io.relaygate.core.link.StreamWindows;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.config.ConfigError;
import io.relaygate.core.tls.KnownRemotes;
import io.relaygate.core.tls.LinkTls;
import io.relaygate.core.wire.LinkCredentials;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.outbound.Connector;
import io.relaygate.core.outbound.Dialer;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.outbound.SwitchingConnector;
import io.relaygate.spi.AdminApi;
import io.relaygate.spi.Destination;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the local role's tunnels go: over a link to the remote with its warm pool, or directly; and changing that
 * while the gateway runs (the console), saving the change for the next start. Thread-safe.
 */
public final class LocalLinks {

    private static final Logger log = LoggerFactory.getLogger(LocalLinks.class);

    private final GatewayConfig config;
    private final Dialer toRemote;
    private final Executor blocking;
    private final BufferPool buffers;

    private final Connector direct;
    private final SwitchingConnector connector;
    /** The services exposed through the remote, or null for none. */
    private final ExposedServices exposed;
    private List<EventLoop> loops = List.of();
    private LinkConnector link;
    private HostPort remote;
    private String user;
    private byte[] password;
    /** {@code sha256:<hex>} or {@code first-use}; null with a CA file or a plaintext link. */
    private String fingerprint;

    /** Starts on the configured remote, if any; {@link #warm} once the loops run. */
    public LocalLinks(GatewayConfig config, Dialer toRemote, Executor blocking, BufferPool buffers, Connector direct,
                      byte[] password, ExposedServices exposed) {
        this.buffers = buffers;
        this.exposed = exposed;

        this.config = config;
        this.toRemote = toRemote;
        this.blocking = blocking;
        this.direct = direct;
        this.password = password.clone();
        this.fingerprint = config.local().remoteFingerprint();
        if (config.local().remote() != null) {
            remote = config.local().remote();
            user = config.local().user();
            link = newLink(remote, user, this.password, fingerprint);
        }
        this.connector = new SwitchingConnector(link != null ? link : direct);
    }

    /** {@return the connector new tunnels use, whatever the settings become} */
    public Connector connector() {
        return connector;
    }

    /** Starts filling the link pools of {@code loops}; later settings warm the same loops. */
    public synchronized void warm(List<EventLoop> loops) {
        this.loops = List.copyOf(loops);
        if (link != null) {
            link.warm(loops);
        }
    }

    /** {@return the exposed services, or null when this local exposes none} */
    public ExposedServices exposed() {
        return exposed;
    }

    /** {@return the link's health now, or null while tunnels go directly} */
    synchronized LinkHealth.Snapshot health() {
        return link == null ? null : link.health();
    }

    /** {@return the settings now, never the password} */
    synchronized AdminApi.ProxySettings settings() {
        return new AdminApi.ProxySettings(remote == null ? null : remote.host(), remote == null ? 0 : remote.port(),
                user, password.length > 0, fingerprint);
    }

    /**
     * Points new tunnels at {@code newRemote} (null: direct), saves that to {@code console-settings.yaml}, and retires
     * the old link pool; tunnels already carried go on. Nothing changes if the settings cannot be saved.
     *
     * @param newPassword    the password, or null to keep the current one
     * @param newFingerprint the remote's certificate ({@code sha256:<hex>} or {@code first-use}), or null to keep
     *                       the current one
     */
    synchronized void apply(HostPort newRemote, String newUser, byte[] newPassword, String newFingerprint)
            throws IOException {
        String trust = newFingerprint != null ? newFingerprint.toLowerCase(java.util.Locale.ROOT) : fingerprint;
        if (trust != null && !trust.equals("first-use") && !trust.matches("sha256:[0-9a-f]{64}")) {
            throw new IllegalArgumentException("remoteFingerprint: expected sha256: and 64 hex digits, as the remote"
                    + " prints at start, or first-use");
        }
        GatewayConfig.LocalConfig local = config.local();
        if (newFingerprint != null && !local.linkTls()) {
            throw new IllegalArgumentException("remoteFingerprint: the link is plaintext (linkTls.mode: off)");
        }
        if (newFingerprint != null && local.remoteCa() != null) {
            throw new IllegalArgumentException("remoteFingerprint: the remote is verified by the CA file "
                    + local.remoteCa() + " of the configuration");
        }
        if (newRemote != null && (newPassword != null ? newPassword.length : password.length) == 0) {
            throw new IllegalArgumentException("password: required with a remote (none is saved yet)");
        }
        if (newRemote != null && local.linkTls() && trust == null && local.remoteCa() == null) {
            throw new IllegalArgumentException("remoteFingerprint: required with a remote (the remote prints it at"
                    + " start as `link fingerprint sha256:…`; `gateway link fingerprint` shows it), or first-use");
        }
        // Direct connections need no password, and none is kept for them.
        byte[] secret = newRemote == null ? new byte[0] : newPassword != null ? newPassword.clone() : password.clone();
        LinkConnector next = newRemote == null ? null : newLink(newRemote, newUser, secret, trust);
        new ConsoleSettings(newRemote == null ? null : newRemote.toString(), newRemote == null ? null : newUser,
                newRemote == null ? null : new String(secret, StandardCharsets.UTF_8), trust).save(config.dataDir());
        fingerprint = trust;
        LinkConnector old = link;
        Arrays.fill(password, (byte) 0);
        password = secret;
        remote = newRemote;
        user = newRemote == null ? null : newUser;
        link = next;
        connector.switchTo(next != null ? next : direct);
        if (next != null) {
            next.warm(loops);
        }
        if (old != null) {
            old.retire(loops);
        }
        log.info("local proxy now {}", newRemote == null ? "connects directly"
                : "uses remote " + newRemote + " as " + LogText.escape(newUser));
    }

    /** {@return how the link to {@code target} trusts the remote, or null for a plaintext link} */
    private LinkTls tlsFor(HostPort target, String trust) {
        GatewayConfig.LocalConfig local = config.local();
        if (!local.linkTls()) {
            return null;
        }
        try {
            if (local.remoteCa() != null) {
                return LinkTls.certificateAuthority(local.remoteCa());
            }
            if ("first-use".equals(trust)) {
                return LinkTls.firstUse(new KnownRemotes(config.dataDir().resolve(KnownRemotes.FILE)),
                        target.toString());
            }
            return LinkTls.pinned(trust);
        } catch (IOException e) {
            throw new ConfigError("remoteCa: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS 1.3 is not available: " + e.getMessage(), e);
        }
    }

    /** A connector to {@code target}, over TLS trusting {@code trust} (or the configured CA) unless plaintext. */
    private LinkConnector newLink(HostPort target, String account, byte[] secret, String trust) {
        int loopCount = config.reactor().eventLoops();
        return new LinkConnector(Destination.parse(target.host(), target.port()), toRemote,
                new LinkCredentials(account, secret), blocking, buffers, tlsFor(target, trust),
                config.timeouts().handshake(), (config.local().linkPool() + loopCount - 1) / loopCount,
                config.limits().maxStreamsPerLink(), StreamWindows.of(config.limits()), exposed);
    }
}
