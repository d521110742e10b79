package kv

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-cdc/tributary/sink"
)

// BucketPrefix starts the name of every sink's bucket: the live model of
// the sink named orders is the bucket TRIBUTARY_SINK_ORDERS, its shadow
// model (a rebuild's) TRIBUTARY_SINK_ORDERS-REBUILD ('-' is in no sink
// name, so no sink's live bucket is another's shadow).
const BucketPrefix = "TRIBUTARY_SINK_"

const shadowSuffix = "-REBUILD"

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// Target is the KV read model of one sink.
type Target struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	name string // the live bucket's
	// maxBatch is the most messages one atomic batch holds: the server's
	// jetstream.limits.max_batch_size.
	maxBatch int
}

// Open returns the target of the sink named name on nc's account, creating
// its live bucket (file storage) if it does not exist. The connection stays
// the caller's: Close leaves it open.
func Open(ctx context.Context, nc *nats.Conn, name string) (*Target, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("sink name %q: a KV bucket name holds letters, digits and '_' only", name)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	t := &Target{nc: nc, js: js, name: BucketPrefix + strings.ToUpper(name), maxBatch: defaultMaxBatch}
	if _, err := ensureBucket(ctx, js, t.name); err != nil {
		return nil, err
	}
	return t, nil
}

// Bucket is the name of model m's bucket.
func (t *Target) Bucket(m sink.Model) string {
	if m == sink.Shadow {
		return t.name + shadowSuffix
	}
	return t.name
}

// bucket returns model m's bucket, creating it if create is set; nil if it
// does not exist.
func (t *Target) bucket(ctx context.Context, m sink.Model, create bool) (*bucket, error) {
	var stream jetstream.Stream
	var err error
	if create {
		stream, err = ensureBucket(ctx, t.js, t.Bucket(m))
	} else {
		stream, err = t.js.Stream(ctx, "KV_"+t.Bucket(m))
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s model: %w", m, err)
	}
	return &bucket{nc: t.nc, js: t.js, stream: stream, name: t.Bucket(m), maxBatch: t.maxBatch}, nil
}

// Checkpoint implements sink.Target. A transaction that committed through a
// redo log and is not fully written yet (see redo) counts as committed.
func (t *Target) Checkpoint(ctx context.Context, m sink.Model) (sink.Checkpoint, error) {
	b, err := t.bucket(ctx, m, false)
	if err != nil || b == nil {
		return sink.Checkpoint{}, err
	}
	s, err := b.checkpoint(ctx)
	return s.cp, err
}

// Begin implements sink.Target: it creates the model's bucket if needed.
func (t *Target) Begin(ctx context.Context, m sink.Model) (sink.Tx, error) {
	b, err := t.bucket(ctx, m, true)
	if err != nil {
		return nil, err
	}
	return &Tx{b: b, m: m, writes: map[string]int{}, tables: map[string]map[string]write{}}, nil
}

// Discard implements sink.Target: it deletes the shadow bucket.
func (t *Target) Discard(ctx context.Context) error {
	err := t.js.DeleteKeyValue(ctx, t.Bucket(sink.Shadow))
	if err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete bucket %s: %w", t.Bucket(sink.Shadow), err)
	}
	return nil
}

// Close implements sink.Target. The connection is the caller's to close.
func (t *Target) Close() error { return nil }
