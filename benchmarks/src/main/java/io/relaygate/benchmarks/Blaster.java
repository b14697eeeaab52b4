package io.relaygate.benchmarks;

import io.relaygate.testkit.TestOrigin;
import java.io.OutputStream;

/** An origin that writes zeros as fast as its client reads, until the client goes away. */
final class Blaster {

    private Blaster() {
    }

    static TestOrigin start() {
        return TestOrigin.start(socket -> {
            socket.setSendBufferSize(1 << 20);
            byte[] chunk = new byte[64 * 1024];
            OutputStream out = socket.getOutputStream();
            while (true) {
                out.write(chunk);
            }
        });
    }
}
