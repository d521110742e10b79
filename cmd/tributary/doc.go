// Command tributary streams a MySQL or MariaDB binlog into a NATS JetStream
// event store, exactly once and in commit order.
//
// This package is the only one that imports more than one of Tributary's
// own: it owns the configuration, the logger, signal handling, the embedded
// NATS server and the wiring of binlog to eventlog.
package main
