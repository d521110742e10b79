// Package sink will own the projection runner (durable consumers,
// checkpoints in the target's own transaction) and, one subpackage each,
// the read-model adapters that pass a shared contract suite.
//
// Nothing is implemented here yet: read models are the subject of their own
// issue. It must not import the binlog package or go-mysql: sinks read the
// event log, never the source.
package sink
