/**
 * The account store over PostgreSQL ({@code accountStore: postgres}): the shared JDBC store of {@code account-jdbc}
 * with PostgreSQL's schema and a LISTEN/NOTIFY change feed, for several remotes sharing their accounts.
 */
package io.relaygate.authpostgres;
