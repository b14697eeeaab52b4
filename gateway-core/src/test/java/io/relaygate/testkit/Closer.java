package io.relaygate.testkit;

import java.util.ArrayList;
import java.util.List;

/** Closes what a test opened, last opened first; a test holds one and closes it in {@code @AfterEach}. */
public final class Closer implements AutoCloseable {

    private final List<AutoCloseable> resources = new ArrayList<>();

    /** {@return {@code resource}, to be closed with this closer} */
    public <T extends AutoCloseable> T track(T resource) {
        resources.add(0, resource);
        return resource;
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
