/**
 * The rate limiter over Redis ({@code rateLimiter: redis}): each remote grants a user's bytes from a lease of the
 * cluster's bucket, kept in Redis and taken by one atomic script, so that a user's rate holds across every remote.
 */
package io.relaygate.ratelimitredis;
