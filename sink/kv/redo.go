package kv

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/tributary-cdc/tributary/sink"
)

// A transaction with more writes than one atomic batch holds is committed
// through a redo log, so that a writer stopped anywhere neither loses nor
// half-applies it:
//
//  1. stage: every write is copied to a key of its own under
//     tributary/redo.<id>., where no reader of rows looks;
//  2. commit: one write of the checkpoint entry, fenced on its revision,
//     holds the new checkpoint and names the staged writes (headers
//     Tributary-Redo and Tributary-Redo-Count). From here the transaction
//     is committed: whoever reads the checkpoint next finishes it;
//  3. finish: the staged writes are applied in atomic batches, each fenced
//     on the revision of step 2, then the checkpoint is written again
//     without the headers, and the staged keys are purged.
//
// The writes are final values (a row's whole image, or its removal), so
// applying them twice, or in two processes at once, gives the same model.
// A transaction's writes are computed from the model as its checkpoint
// says it is, never from a half-applied one: Tx.Checkpoint and Promote
// finish a pending redo before they read anything.

// stage performs steps 1 and 2 and returns the checkpoint entry as
// committed.
func (b *bucket) stage(ctx context.Context, rev uint64, writes []write, doc []byte) (stored, error) {
	id := nuid.Next()
	purge := func() {
		// Best effort: staged keys of a transaction that did not commit
		// are invisible to readers and only take space.
		_ = b.stream.Purge(context.WithoutCancel(ctx), jetstream.WithPurgeSubject(b.subject(redoPrefix+id+".>")))
	}
	for start := 0; start < len(writes); start += b.maxBatch {
		chunk := writes[start:min(start+b.maxBatch, len(writes))]
		msgs := make([]*nats.Msg, len(chunk))
		for i, w := range chunk {
			m := nats.NewMsg(b.subject(redoPrefix + id + "." + strconv.Itoa(start+i+1)))
			m.Header[headerRedoKey] = []string{w.key}
			if w.remove {
				m.Header[headerRedoOp] = []string{"remove"}
			}
			if w.jsonNull != "" {
				m.Header[HeaderJSONNull] = []string{w.jsonNull}
			}
			m.Data = w.value
			msgs[i] = m
		}
		if _, err := b.publish(ctx, rev, msgs); err != nil {
			purge()
			return stored{}, fmt.Errorf("stage writes %d-%d of %d: %w", start+1, start+len(chunk), len(writes), err)
		}
	}
	m := b.checkpointMsg(doc)
	m.Header[headerRedo] = []string{id}
	m.Header[headerRedoCount] = []string{strconv.Itoa(len(writes))}
	newRev, err := b.publish(ctx, rev, []*nats.Msg{m})
	if err != nil {
		purge()
		return stored{}, fmt.Errorf("commit %d staged writes: %w", len(writes), err)
	}
	return stored{doc: doc, rev: newRev, redo: id, count: len(writes)}, nil
}

// finish performs step 3 for the checkpoint entry s. An error wrapping
// sink.ErrMoved means another writer finished it first.
func (b *bucket) finish(ctx context.Context, s stored) error {
	var chunk []*nats.Msg
	n := 0
	err := b.scan(ctx, jetstream.ConsumerConfig{FilterSubject: b.subject(redoPrefix + s.redo + ".>"), DeliverPolicy: jetstream.DeliverAllPolicy},
		func(e entry) error {
			key := e.header.Get(headerRedoKey)
			if key == "" {
				return fmt.Errorf("staged write %s has no header %s", e.key, headerRedoKey)
			}
			n++
			chunk = append(chunk, b.msg(write{key: key, remove: e.header.Get(headerRedoOp) == "remove", value: e.data,
				jsonNull: e.header.Get(HeaderJSONNull)}))
			if len(chunk) < b.maxBatch {
				return nil
			}
			_, err := b.publish(ctx, s.rev, chunk)
			chunk = nil
			return err
		})
	if err == nil && n != s.count {
		err = fmt.Errorf("found %d of them", n)
		if now, rerr := b.checkpoint(ctx); rerr == nil && now.rev != s.rev {
			// Finished by another writer, who purged them.
			err = fmt.Errorf("checkpoint moved on: %w", sink.ErrMoved)
		}
	}
	if err == nil {
		if len(chunk)+1 > b.maxBatch {
			_, err = b.publish(ctx, s.rev, chunk)
			chunk = nil
		}
		if err == nil {
			_, err = b.publish(ctx, s.rev, append(chunk, b.checkpointMsg(s.doc)))
		}
	}
	if err != nil {
		if errors.Is(err, sink.ErrMoved) {
			return fmt.Errorf("finish transaction %s of bucket %s: %w", s.redo, b.name, err)
		}
		return fmt.Errorf("finish transaction %s of bucket %s (%d staged writes; it is committed, and whoever reads the checkpoint next finishes it): %w", s.redo, b.name, s.count, err)
	}
	// Best effort, as in stage: the transaction is complete either way.
	_ = b.stream.Purge(context.WithoutCancel(ctx), jetstream.WithPurgeSubject(b.subject(redoPrefix+s.redo+".>")))
	return nil
}
