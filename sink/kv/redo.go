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
//     on the revision of step 2, the last one writing the checkpoint again
//     without the headers, and the staged keys are purged. The writer that
//     staged them applies the writes it holds; any other reads them back
//     (holding them in memory, as that writer did).
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
	_, err := b.publishAll(ctx, rev, len(writes), func(i int) *nats.Msg {
		w := writes[i]
		m := nats.NewMsg(b.subject(redoPrefix + id + "." + strconv.Itoa(i+1)))
		m.Header[headerRedoKey] = []string{w.key}
		if w.remove {
			m.Header[headerRedoOp] = []string{"remove"}
		}
		if w.jsonNull != "" {
			m.Header[HeaderJSONNull] = []string{w.jsonNull}
		}
		m.Data = w.value
		return m
	})
	if err != nil {
		// Best effort: staged keys of a transaction that did not commit
		// are invisible to readers and only take space.
		b.purgeStaged(ctx, id)
		return stored{}, fmt.Errorf("stage %d writes: %w", len(writes), err)
	}
	m := b.checkpointMsg(doc)
	m.Header[headerRedo] = []string{id}
	m.Header[headerRedoCount] = []string{strconv.Itoa(len(writes))}
	seq, err := b.publish(ctx, rev, []*nats.Msg{m})
	if err != nil {
		// Refused, the transaction did not commit. Any other failure (an
		// acknowledgement lost) may hide a commit, whose staged writes the
		// next reader of the checkpoint needs: they stay.
		if errors.Is(err, sink.ErrMoved) {
			b.purgeStaged(ctx, id)
		}
		return stored{}, fmt.Errorf("commit %d staged writes: %w", len(writes), err)
	}
	return stored{doc: doc, rev: seq, redo: id, count: len(writes)}, nil
}

func (b *bucket) purgeStaged(ctx context.Context, id string) {
	_ = b.stream.Purge(context.WithoutCancel(ctx), jetstream.WithPurgeSubject(b.subject(redoPrefix+id+".>")))
}

// finish performs step 3 for the checkpoint entry s, reading the staged
// writes back. An error wrapping sink.ErrMoved means another writer
// finished it first.
func (b *bucket) finish(ctx context.Context, s stored) error {
	writes, err := b.staged(ctx, s)
	if err != nil {
		return b.finishError(s, err)
	}
	return b.complete(ctx, s, writes)
}

// staged reads the writes of the checkpoint entry s's redo.
func (b *bucket) staged(ctx context.Context, s stored) ([]write, error) {
	var writes []write
	err := b.scan(ctx, jetstream.ConsumerConfig{FilterSubject: b.subject(redoPrefix + s.redo + ".>"), DeliverPolicy: jetstream.DeliverAllPolicy},
		func(e entry) error {
			key := e.header.Get(headerRedoKey)
			if key == "" {
				return fmt.Errorf("staged write %s has no header %s", e.key, headerRedoKey)
			}
			writes = append(writes, write{key: key, remove: e.header.Get(headerRedoOp) == "remove", value: e.data,
				jsonNull: e.header.Get(HeaderJSONNull)})
			return nil
		})
	if err == nil && len(writes) != s.count {
		err = fmt.Errorf("found %d of them", len(writes))
		if now, rerr := b.checkpoint(ctx); rerr == nil && now.rev != s.rev {
			// Finished by another writer, who purged them.
			err = fmt.Errorf("checkpoint moved on: %w", sink.ErrMoved)
		}
	}
	return writes, err
}

// complete applies the writes of the checkpoint entry s's redo (step 3).
func (b *bucket) complete(ctx context.Context, s stored, writes []write) error {
	if err := b.apply(ctx, s.rev, writes, s.doc); err != nil {
		return b.finishError(s, err)
	}
	// Best effort, as in stage: the transaction is complete either way.
	b.purgeStaged(ctx, s.redo)
	return nil
}

func (b *bucket) finishError(s stored, err error) error {
	if errors.Is(err, sink.ErrMoved) {
		return fmt.Errorf("finish transaction %s of bucket %s: %w", s.redo, b.name, err)
	}
	return fmt.Errorf("finish transaction %s of bucket %s (%d staged writes; it is committed, and whoever reads the checkpoint next finishes it): %w", s.redo, b.name, s.count, err)
}
