package io.relaygate.core.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    @Test
    void aBoundedPoolLendsAtMostItsNumberAndLendsAgainWhenOneComesBack() {
        BufferPool bounded = BufferPool.bounded(4096, 2);
        ByteBuffer a = bounded.tryAcquire();
        ByteBuffer b = bounded.tryAcquire();
        assertThat(a).isNotNull();
        assertThat(b).isNotNull().isNotSameAs(a);
        assertThat(a.capacity()).isEqualTo(4096);
        assertThat(bounded.tryAcquire()).as("both lent").isNull();
        bounded.release(a);
        assertThat(bounded.tryAcquire()).as("the one back is lent again").isSameAs(a);
        assertThat(bounded.inUse()).isEqualTo(2);
        assertThat(BufferPool.bounded(4096, 0).tryAcquire()).as("a pool of none lends none").isNull();
    }

    @Test
    void aPoolsBulkTierIsBoundedAndAPoolWithoutOneNeverLendsBulk() {
        BufferPool tier = BufferPool.bounded(8192, 1);
        BufferPool pool = new BufferPool(1024, 4, tier);
        assertThat(pool.bulk()).isSameAs(tier);
        ByteBuffer bulk = pool.bulk().tryAcquire();
        assertThat(bulk.capacity()).isEqualTo(8192);
        assertThat(pool.bulk().tryAcquire()).isNull();
        assertThat(pool.acquire().capacity()).as("the pool itself still lends").isEqualTo(1024);
        assertThat(pool.inUse()).as("its own and its tier's").isEqualTo(2);
        assertThat(pool.bytesInUse()).isEqualTo(1024 + 8192);
        assertThat(new BufferPool(1024, 4).bulk().tryAcquire()).isNull();
        assertThat(BufferPool.heap(1024, 4).bulk().tryAcquire()).isNull();
        assertThatThrownBy(() -> new BufferPool(1024, 4, BufferPool.bounded(512, 1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BufferPool(1024, 4, new BufferPool(4096, 4)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
