/**
 * Token buckets, one per principal and shared by all of its connections on every event loop, lock-free (one
 * compare-and-set on a single {@code long} per grant).
 */
package io.relaygate.ratelimit;
