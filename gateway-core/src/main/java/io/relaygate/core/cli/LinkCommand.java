package io.relaygate.core.cli;

import io.relaygate.core.DataDirectory;
import io.relaygate.core.config.GatewayConfig;
import io.relaygate.core.tls.LinkCertificate;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code gateway link}: the remote's link identity. */
@Command(name = "link", mixinStandardHelpOptions = true, description = "The remote's link certificate.",
        subcommands = LinkCommand.Fingerprint.class)
final class LinkCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.err.println("gateway link: a subcommand is required (see gateway link --help)");
        return ExitCodes.USAGE;
    }

    /**
     * {@code gateway link fingerprint}: the fingerprint a local pins, from the data directory's certificate, made
     * now if the remote has not started yet (it is the one the remote will present).
     */
    @Command(name = "fingerprint", mixinStandardHelpOptions = true,
            description = "Print the link certificate's fingerprint (sha256:<hex>), making the certificate if the"
                    + " data directory has none yet.")
    static final class Fingerprint implements Callable<Integer> {

        @Mixin
        SharedOptions shared = new SharedOptions();

        @Override
        public Integer call() {
            GatewayConfig config = GatewayConfig.from(shared.settings(), Main.home());
            DataDirectory.secure(config.dataDir());
            try {
                System.out.println(LinkCertificate.loadOrCreate(config.dataDir()).fingerprint());
                return ExitCodes.OK;
            } catch (IOException e) {
                System.err.println("gateway: link certificate in " + config.dataDir() + ": " + e.getMessage());
                return ExitCodes.START_FAILURE;
            }
        }
    }
}
