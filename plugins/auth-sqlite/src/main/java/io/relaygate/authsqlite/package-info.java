/**
 * The account store in SQLite ({@code <data-dir>/gateway.db}) through HikariCP and sqlite-jdbc: WAL,
 * {@code synchronous=FULL}, a busy timeout, versioned migrations, counters as increments and a change feed that
 * also sees other processes' writes.
 */
package io.relaygate.authsqlite;
