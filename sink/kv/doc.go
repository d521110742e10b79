// Package kv is the NATS KV read-model target: one bucket per sink holding
// the latest row of every key, kept by sink.Runner like any other target.
//
// # Layout
//
// The live model of the sink named orders is the bucket
// TRIBUTARY_SINK_ORDERS (BucketPrefix + the name upper-cased), file storage,
// one entry per key; a rebuild fills the shadow bucket
// TRIBUTARY_SINK_ORDERS-REBUILD. The bucket's stream allows atomic batches
// (nats-server 2.12 or later) and per-message TTLs.
//
// A row's key is its table's name, then one token per key column, joined by
// '.': orders.42, order_lines.42.3, users.ann=40example=2Ecom. A token is the
// value's text (a string unquoted, a number as the events write it, a SET or
// JSON value as compact JSON) with every byte outside A-Z a-z 0-9 _ - written
// as '=' and two upper-case hex digits, and the empty string as "=" (Key,
// ParseKey). Tables are named without their database, as in the SQL targets;
// the Runner refuses two tables of one name. A key column holding NULL, and a
// key longer than 3000 bytes escaped, stop the sink (sink.ErrValue), as does
// a row of a table with no key: such a table can be in the model (the
// Runner stops at its first row, as with the SQL targets) but holds no row.
// List a table with the filter TablePrefix(table) + ">".
//
// A row's value is a JSON object of the table's columns in source order, each
// value exactly as the events hold it (docs/EVENTS.md, Values), null for SQL
// NULL. A JSON column holding the document null also reads null; the entry's
// header Tributary-JSON-Null (HeaderJSONNull) names such columns, for readers
// that get entries as messages (the KV API drops headers).
//
// The key tributary/checkpoint (CheckpointKey; no row key holds '/') holds
// the sink.Checkpoint as JSON, and with it the tables' shapes: a table
// exists in the model if its checkpoint lists it, whatever its keys. Keys
// under tributary/redo. are the redo log's staged writes (see below); they
// are removed when their transaction is complete.
//
// A removed row leaves a KV purge marker (KV-Operation: PURGE) that expires
// after MarkerTTL, so a watcher sees the removal but the bucket does not grow
// with every key ever deleted.
//
// # Transactions, and what a reader sees
//
// A transaction buffers its writes in memory, one final state per key, and
// writes nothing before Commit. Tables need no DDL: CreateTable, DropTable
// and Truncate remove the rows the table holds; AlterTable writes every row
// of the table again in its new shape (renamed, added and dropped columns,
// values converted where a type change alters only their form, the row
// moved if its key changed), so that readers never see a row in an old
// shape once the checkpoint names the new one. CreateTable, DropTable,
// Truncate, AlterTable and RenameTable read the table's rows, once per
// transaction, and hold them in memory until it ends.
//
// Commit writes the buffered writes and then the checkpoint:
//
//   - Up to 999 writes: one atomic batch. A reader sees the whole
//     transaction, with its checkpoint, or nothing of it.
//   - More (the server's default batch limit is 1,000 messages): through a
//     redo log. The writes are staged under tributary/redo.<id>., the
//     checkpoint entry then takes the new checkpoint with the headers
//     Tributary-Redo and Tributary-Redo-Count (the commit point), and the
//     writes are applied in atomic batches, the last of them writing the
//     checkpoint again without the headers. A reader sees every row as it
//     was or as the transaction left it, the transaction's rows changing in
//     batches of up to 1,000 while the checkpoint entry carries
//     Tributary-Redo. A writer stopped there, or not told whether its
//     commit point was stored, leaves the transaction to the next one that
//     reads the checkpoint, which finishes it from the staged writes before
//     anything else; the writes are final states, so nothing is lost or
//     applied twice.
//
// Every batch is fenced on the checkpoint entry's revision as Tx.Checkpoint
// read it (Nats-Expected-Last-Subject-Sequence naming the checkpoint's
// subject), so two writers from one checkpoint (a projection and a
// rebuild's Promote) cannot both commit: the second Commit stores nothing
// and fails with an error wrapping sink.ErrMoved, after which the Runner
// reads the checkpoint again. KV has no locks: Tx.Checkpoint holds nothing,
// it only makes a later change fail the commit.
//
// # Rebuilds
//
// A bucket cannot be renamed. Promote writes into the live bucket the
// difference from the shadow bucket, as one transaction on the live model:
// the shadow's rows the live model does not hold alike, the removal of live
// rows the shadow does not hold (tables the shadow does not have included),
// and the shadow's checkpoint; then it deletes the shadow bucket. A reader
// of the live bucket never sees it empty: with up to 999 differing rows the
// model switches at once; with more, each row switches from its old value
// to its new one in batches, and the checkpoint entry names the shadow's
// checkpoint with Tributary-Redo until the last batch is written. A
// projection committing meanwhile makes Promote read the rows it wrote and
// try again (up to 10 times). Promote holds a digest of every live row, and
// the differing shadow rows, in memory.
//
// It imports the root package (its subject-token escaping), sink and
// nats.go; never binlog, eventlog or go-mysql.
package kv
