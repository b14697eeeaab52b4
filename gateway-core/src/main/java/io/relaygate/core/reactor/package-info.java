/**
 * The NIO reactor: event loops that each own a selector, a lock-free task queue and their timers, and the pool of
 * direct buffers that relays borrow from.
 */
package io.relaygate.core.reactor;
