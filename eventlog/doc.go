// Package eventlog is Tributary's event store on NATS JetStream: the stream
// layout, the fenced exactly-once append, reading the last stored event
// back to know where to resume, and ordered replay.
//
// It must not import go-mysql or the binlog package: it stores
// tributary.Events and knows nothing of where they came from.
package eventlog
