package io.relaygate.core.link;

import io.relaygate.core.net.Port;
import io.relaygate.core.outbound.DatagramPath;
import io.relaygate.core.wire.DatagramRecords;
import io.relaygate.core.wire.LinkProtocolException;
import io.relaygate.spi.Destination;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * Datagrams as records ({@link DatagramRecords}) on one stream of the link, either end. A record is written whole:
 * while one the stream could not take whole waits, further datagrams are dropped (the stream's window is the bound
 * on what is queued, as the link's flow control intends). Records read are handed on one by one. Confined to the
 * link's loop.
 */
final class StreamDatagrams implements DatagramPath, Port.Handler {

    /** Hears the records read, in the stream's own terms (a name is possible from the local). */
    interface Records {
        void record(Destination address, ByteBuffer payload);
    }

    private final Port stream;
    private final Records records;
    private final Receiver receiver;
    private final ByteBuffer in = ByteBuffer.allocate(2 * (DatagramRecords.MAX_HEADER + DatagramRecords.MAX_PAYLOAD))
            .flip();
    private final ByteBuffer out = ByteBuffer.allocate(DatagramRecords.MAX_HEADER + DatagramRecords.MAX_PAYLOAD);
    private boolean writing;
    private boolean closed;

    StreamDatagrams(Port stream, Records records, Receiver receiver) {
        this.stream = stream;
        this.records = records;
        this.receiver = receiver;
        stream.handler(this);
        stream.interest(true, false);
    }

    @Override
    public void send(Destination address, ByteBuffer payload) {
        if (closed) {
            return;
        }
        if (writing) {
            receiver.dropped("link window");
            return;
        }
        out.clear();
        DatagramRecords.encode(out, address, payload);
        out.flip();
        try {
            stream.write(out);
        } catch (IOException e) {
            end("the link stream broke");
            return;
        }
        if (out.hasRemaining()) {
            writing = true;
            stream.interest(true, true);
        }
    }

    @Override
    public void readable() throws IOException {
        for (int reads = 0; reads < 16 && !closed; reads++) {
            in.compact();
            int n = stream.read(in);
            in.flip();
            if (n < 0) {
                end("the link stream ended");
                return;
            }
            try {
                for (DatagramRecords.Datagram d; !closed && (d = DatagramRecords.decode(in)) != null; ) {
                    records.record(d.address(), d.payload());
                }
            } catch (LinkProtocolException e) {
                stream.reset();
                end("malformed datagram record");
                return;
            }
            if (n == 0) {
                return;
            }
        }
    }

    @Override
    public void writable() throws IOException {
        if (!writing || closed) {
            return;
        }
        stream.write(out);
        if (!out.hasRemaining()) {
            writing = false;
            stream.interest(true, false);
        }
    }

    @Override
    public void failed(Throwable cause) {
        end("the link stream broke");
    }

    private void end(String reason) {
        if (!closed) {
            close();
            receiver.ended(reason);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            stream.close();
        }
    }

    /** {@return a receiver's view of a source address sent as a record's address} */
    static InetSocketAddress socketAddress(Destination address) {
        return new InetSocketAddress(address.address(), address.port());
    }
}
