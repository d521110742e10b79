// Package binlog connects to a MySQL or MariaDB server as a replica, streams
// its binary log from a given position, decodes every committed row change
// with the table definition carried in the binlog's row metadata, and turns
// it into a tributary.Event.
//
// It owns: the source connection (Source), preflight checks of the source's
// configuration (Check), the binlog head (Head), and the Tailer that hands
// transactions, in commit order, to a function the caller provides.
//
// It must not import the eventlog package, nats.go or anything NATS: it
// knows SQL and the binlog, and hands events on through EmitFunc.
package binlog
