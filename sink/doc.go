// Package sink keeps read models current from the event store: it reads a
// stream in order, groups its events into the source transactions they came
// from, and applies them to a Target, one target transaction per group of
// whole source transactions, with the read model's checkpoint (the last
// applied stream sequence) written in that same transaction.
//
// Each read-model technology lives in its own package under sink/ and
// implements Target; sink/sinktest is the contract suite every one of them
// passes. The Runner holds everything the technologies share: decoding
// events, following table definitions, batching, the checkpoint rule,
// rebuilding into a shadow model and swapping it in.
//
// It may import eventlog (to read the stream and its baseline) but never
// binlog or go-mysql: a sink knows events, not where they came from.
package sink
