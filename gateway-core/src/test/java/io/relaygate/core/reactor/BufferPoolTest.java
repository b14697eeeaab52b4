package io.relaygate.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BufferPoolTest {

    @Test
    void buffersAreReusedClearedAndCounted() {
        BufferPool pool = new BufferPool(1024, 4);
        ByteBuffer first = pool.acquire();
        assertThat(first.isDirect()).isTrue();
        assertThat(first.capacity()).isEqualTo(1024);
        first.put((byte) 1);
        assertThat(pool.inUse()).isEqualTo(1);
        pool.release(first);
        assertThat(pool.inUse()).isZero();
        ByteBuffer again = pool.acquire();
        assertThat(again).isSameAs(first);
        assertThat(again.position()).isZero();
        assertThat(again.remaining()).isEqualTo(1024);
    }

    @Test
    void aFullPoolDropsWhatItCannotKeep() {
        BufferPool pool = new BufferPool(64, 2);
        ByteBuffer[] buffers = {pool.acquire(), pool.acquire(), pool.acquire()};
        for (ByteBuffer buffer : buffers) {
            pool.release(buffer);
        }
        assertThat(pool.inUse()).isZero();
        ByteBuffer a = pool.acquire();
        ByteBuffer b = pool.acquire();
        ByteBuffer c = pool.acquire();
        assertThat(c).isNotSameAs(buffers[2]).isNotSameAs(a).isNotSameAs(b);
    }
}
