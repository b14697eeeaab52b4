package io.relaygate.testkit;

import io.relaygate.core.Gateway;
import io.relaygate.spi.GatewayPlugin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A remote gateway with an in-memory account store, and locals pointed at it, all in this JVM on 127.0.0.1:0: the
 * shape every test of the link starts from. The gateways it starts are tracked by the closer it was given.
 */
public final class TestChain {

    private final Closer closer;
    private final List<GatewayPlugin> remotePlugins;
    private final List<GatewayPlugin> localPlugins;
    private final Path dataDir;

    /**
     * @param closer        closes the gateways after the test
     * @param remotePlugins the remote's plugins, its account store among them (e.g. a {@link MemoryAccounts})
     * @param localPlugins  each local's plugins (a protocol at least)
     * @param dataDir       the remote's data directory (its link secret)
     */
    public TestChain(Closer closer, List<GatewayPlugin> remotePlugins, List<GatewayPlugin> localPlugins,
                     Path dataDir) {
        this.closer = closer;
        this.remotePlugins = List.copyOf(remotePlugins);
        this.localPlugins = List.copyOf(localPlugins);
        this.dataDir = dataDir;
    }

    /**
     * Starts a remote whose account store is {@code memory} with 64 PBKDF2 iterations for new accounts.
     *
     * @param settings key, value… over those (e.g. {@code "allowDestination", "127.0.0.1/32"})
     */
    public Gateway remote(String... settings) {
        List<String> all = new ArrayList<>(List.of("role", "remote", "accountStore", "memory", "dataDir",
                dataDir.toString(), "passwordIterations", "64"));
        all.addAll(List.of(settings));
        return closer.track(TestGateway.start(remotePlugins, all.toArray(String[]::new)));
    }

    /**
     * Starts a local that carries its tunnels to {@code remote} as {@code user}, over TLS pinned to the remote's
     * certificate (in the clear to a plaintext remote) unless {@code settings} say how to trust it.
     */
    public Gateway local(Gateway remote, String user, String password, String... settings) {
        List<String> all = new ArrayList<>(List.of("remote", "127.0.0.1:" + remote.address("link").getPort(),
                "user", user));
        List<String> given = List.of(settings);
        boolean trustGiven = false;
        for (int i = 0; i < given.size(); i += 2) {
            trustGiven |= List.of("remoteFingerprint", "remoteCa", "linkTls.mode").contains(given.get(i));
        }
        if (!trustGiven) {
            all.addAll(remote.linkFingerprint() != null ? List.of("remoteFingerprint", remote.linkFingerprint())
                    : List.of("linkTls.mode", "off"));
        }
        all.addAll(given);
        return closer.track(Gateway.builder(TestGateway.config(all.toArray(String[]::new))).plugins(localPlugins)
                .linkPassword(password.getBytes(StandardCharsets.UTF_8)).start());
    }
}
