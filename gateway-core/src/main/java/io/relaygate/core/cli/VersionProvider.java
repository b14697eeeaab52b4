package io.relaygate.core.cli;

import picocli.CommandLine.IVersionProvider;

/** The version from the core jar's manifest. */
final class VersionProvider implements IVersionProvider {

    static String version() {
        String version = VersionProvider.class.getPackage().getImplementationVersion();
        return version != null ? version : "dev";
    }

    @Override
    public String[] getVersion() {
        return new String[] {"relaygate " + version() + " (Java " + Runtime.version() + ")"};
    }
}
