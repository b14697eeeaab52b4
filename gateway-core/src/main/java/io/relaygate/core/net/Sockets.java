package io.relaygate.core.net;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Socket chores shared by the connection classes. */
public final class Sockets {

    private static final Logger log = LoggerFactory.getLogger(Sockets.class);

    private Sockets() {
    }

    /** Non-blocking, no Nagle delay (proxied protocols do their own batching), keepalive on. */
    public static void configure(SocketChannel channel) throws IOException {
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
    }

    /** Closes quietly; a failure to close is logged at debug and otherwise ignored. */
    public static void close(SocketChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing {}", channel, e);
        }
    }

    /** Closes with a reset (SO_LINGER 0), so the peer learns that the stream broke rather than ended. */
    public static void reset(SocketChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            if (channel.isOpen()) {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException e) {
            log.debug("setting SO_LINGER on {}", channel, e);
        }
        close(channel);
    }
}
