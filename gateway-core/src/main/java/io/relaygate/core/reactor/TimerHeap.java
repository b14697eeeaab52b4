package io.relaygate.core.reactor;

import java.util.Arrays;

/**
 * A binary min-heap of timers by deadline in which each timer knows its index, so cancelling is O(log n) and leaves
 * nothing behind. Confined to its event loop.
 */
final class TimerHeap {

    private Timer[] heap = new Timer[64];
    private int size;

    int size() {
        return size;
    }

    Timer peek() {
        return size == 0 ? null : heap[0];
    }

    void add(Timer timer) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        timer.index = size;
        heap[size++] = timer;
        siftUp(timer.index);
    }

    /** Removes and returns the earliest timer. */
    Timer poll() {
        Timer first = heap[0];
        removeAt(0);
        return first;
    }

    void remove(Timer timer) {
        if (timer.index >= 0 && timer.index < size && heap[timer.index] == timer) {
            removeAt(timer.index);
        }
    }

    private void removeAt(int i) {
        Timer removed = heap[i];
        removed.index = -1;
        Timer last = heap[--size];
        heap[size] = null;
        if (i < size) {
            heap[i] = last;
            last.index = i;
            siftDown(i);
            if (heap[i] == last) {
                siftUp(i);
            }
        }
        if (heap.length > 64 && size < heap.length / 4) {
            heap = Arrays.copyOf(heap, heap.length / 2);    // a burst of connections should not pin memory
        }
    }

    private void siftUp(int i) {
        Timer timer = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!timer.before(heap[parent])) {
                break;
            }
            heap[i] = heap[parent];
            heap[i].index = i;
            i = parent;
        }
        heap[i] = timer;
        timer.index = i;
    }

    private void siftDown(int i) {
        Timer timer = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right].before(heap[child])) {
                child = right;
            }
            if (!heap[child].before(timer)) {
                break;
            }
            heap[i] = heap[child];
            heap[i].index = i;
            i = child;
        }
        heap[i] = timer;
        timer.index = i;
    }
}
