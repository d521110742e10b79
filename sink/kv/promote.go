package kv

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-cdc/tributary/sink"
)

// promoteAttempts bounds how often Promote computes its diff again because
// a projection committed to the live model meanwhile.
const promoteAttempts = 10

type digest [sha256.Size]byte

func digestOf(e entry) digest {
	h := sha256.New()
	h.Write([]byte(e.header.Get(HeaderJSONNull)))
	h.Write([]byte{0})
	h.Write(e.data)
	var d digest
	h.Sum(d[:0])
	return d
}

// Promote implements sink.Target. A bucket cannot be renamed, so Promote
// writes into the live bucket what differs from the shadow's: the rows the
// shadow holds and the live model does not hold alike, the removal of the
// live rows the shadow does not hold, and the shadow's checkpoint, as one
// transaction on the live model (one atomic batch, or through the redo log
// if it is larger; see the package documentation for what readers see).
// Then it deletes the shadow bucket.
//
// A projection committing to the live model meanwhile makes the commit
// fail; Promote reads what it wrote and tries again, up to promoteAttempts
// times. It holds a digest of every live row and the differing shadow rows
// in memory.
func (t *Target) Promote(ctx context.Context) error { return t.promote(ctx, nil) }

// promote is Promote; beforeCommit, if set, runs before each commit
// attempt (tests commit to the live model there).
func (t *Target) promote(ctx context.Context, beforeCommit func(attempt int)) error {
	shadow, err := t.bucket(ctx, sink.Shadow, false)
	if err != nil {
		return err
	}
	if shadow == nil {
		return fmt.Errorf("promote: there is no shadow model (bucket %s)", t.Bucket(sink.Shadow))
	}
	scp, err := shadow.settled(ctx)
	if err != nil {
		return err
	}
	if scp.rev == 0 {
		return fmt.Errorf("promote: the shadow model (bucket %s) has no checkpoint: its rebuild never committed", shadow.name)
	}
	live, err := t.bucket(ctx, sink.Live, true)
	if err != nil {
		return err
	}
	lcp, err := live.settled(ctx)
	if err != nil {
		return err
	}
	rev := lcp.rev
	liveRows := map[string]digest{}
	if err := live.rows(ctx, "", func(e entry) error { liveRows[e.key] = digestOf(e); return nil }); err != nil {
		return err
	}
	shadowRows := map[string]digest{}
	held := map[string]write{}
	err = shadow.rows(ctx, "", func(e entry) error {
		d := digestOf(e)
		shadowRows[e.key] = d
		if ld, ok := liveRows[e.key]; !ok || ld != d {
			held[e.key] = write{key: e.key, value: e.data, jsonNull: e.header.Get(HeaderJSONNull)}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		writes, err := diff(ctx, shadow, liveRows, shadowRows, held)
		if err != nil {
			return err
		}
		if beforeCommit != nil {
			beforeCommit(attempt)
		}
		err = live.commit(ctx, rev, writes, scp.doc)
		if err == nil {
			break
		}
		if !errors.Is(err, sink.ErrMoved) || attempt == promoteAttempts {
			return fmt.Errorf("promote bucket %s (attempt %d): %w", shadow.name, attempt, err)
		}
		now, err := live.settled(ctx)
		if err != nil {
			return err
		}
		if err := live.follow(ctx, rev, liveRows); err != nil {
			return err
		}
		rev = now.rev
	}
	if err := t.Discard(ctx); err != nil {
		return fmt.Errorf("promoted, but %w", err)
	}
	return nil
}

// diff returns the writes that make the live rows the shadow's. held has
// the shadow rows known to differ; one found to differ later is read from
// the shadow bucket.
func diff(ctx context.Context, shadow *bucket, liveRows, shadowRows map[string]digest, held map[string]write) ([]write, error) {
	var writes []write
	for _, k := range slices.Sorted(maps.Keys(shadowRows)) {
		if ld, ok := liveRows[k]; ok && ld == shadowRows[k] {
			continue
		}
		w, ok := held[k]
		if !ok {
			msg, err := shadow.stream.GetLastMsgForSubject(ctx, shadow.subject(k))
			if err != nil {
				return nil, fmt.Errorf("read %s from bucket %s: %w", k, shadow.name, err)
			}
			w = write{key: k, value: msg.Data, jsonNull: msg.Header.Get(HeaderJSONNull)}
			held[k] = w
		}
		writes = append(writes, w)
	}
	for _, k := range slices.Sorted(maps.Keys(liveRows)) {
		if _, ok := shadowRows[k]; !ok {
			writes = append(writes, write{key: k, remove: true})
		}
	}
	return writes, nil
}

// follow brings the digests of b's rows up to date with what was written
// to b after stream sequence rev (a projection's commits).
func (b *bucket) follow(ctx context.Context, rev uint64, digests map[string]digest) error {
	return b.scan(ctx, jetstream.ConsumerConfig{FilterSubject: b.subject(">"), DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: rev + 1},
		func(e entry) error {
			switch {
			case strings.HasPrefix(e.key, reservedPrefix):
			case e.removed():
				delete(digests, e.key)
			default:
				digests[e.key] = digestOf(e)
			}
			return nil
		})
}
