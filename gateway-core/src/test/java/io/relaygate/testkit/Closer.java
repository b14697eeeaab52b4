package io.relaygate.testkit;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Closes what a test opened, last opened first. Register it as a field, and it closes everything after each test:
 * <pre>{@code @RegisterExtension final Closer closer = new Closer();}</pre>
 */
public final class Closer implements AutoCloseable, AfterEachCallback {

    private final List<AutoCloseable> resources = new ArrayList<>();

    /** {@return {@code resource}, to be closed with this closer} */
    public <T extends AutoCloseable> T track(T resource) {
        resources.add(0, resource);
        return resource;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        close();
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        resources.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
