package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/tributary-cdc/tributary/sink"
)

// JetStream and KV headers a write carries.
const (
	headerBatchID     = "Nats-Batch-Id"
	headerBatchSeq    = "Nats-Batch-Sequence"
	headerBatchCommit = "Nats-Batch-Commit"
	headerKVOperation = "KV-Operation"
	// Headers of this package's own bookkeeping entries (see redo).
	headerRedo      = "Tributary-Redo"
	headerRedoCount = "Tributary-Redo-Count"
	headerRedoKey   = "Tributary-Key"
	headerRedoOp    = "Tributary-Op"
)

// MarkerTTL is how long the marker a removed row leaves stays in the
// bucket: long enough for a KV watcher that was away to see the removal,
// after which the key has no entry at all and the bucket does not grow
// with every key ever deleted.
const MarkerTTL = 24 * time.Hour

// defaultMaxBatch is nats-server's default limit on the messages of one
// atomic batch (jetstream.limits.max_batch_size).
const defaultMaxBatch = 1000

// write is one key's final state in a transaction.
type write struct {
	key      string
	remove   bool
	value    []byte
	jsonNull string // HeaderJSONNull, or ""
}

// bucket is one model's KV bucket, addressed through its stream.
type bucket struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	stream   jetstream.Stream
	name     string
	maxBatch int
}

func (b *bucket) subject(key string) string { return "$KV." + b.name + "." + key }

func (b *bucket) key(subject string) string {
	return strings.TrimPrefix(subject, "$KV."+b.name+".")
}

// ensureBucket creates a KV bucket if it does not exist, with file storage
// and one entry per key, and lets its stream take atomic batches and
// per-message TTLs (for MarkerTTL).
func ensureBucket(ctx context.Context, js jetstream.JetStream, name string) (jetstream.Stream, error) {
	stream, err := js.Stream(ctx, "KV_"+name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, History: 1, Storage: jetstream.FileStorage,
			Description: "tributary read model"})
		if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
			return nil, fmt.Errorf("create KV bucket %s: %w", name, err)
		}
		stream, err = js.Stream(ctx, "KV_"+name)
	}
	if err != nil {
		return nil, fmt.Errorf("KV bucket %s: %w", name, err)
	}
	cfg := stream.CachedInfo().Config
	if cfg.AllowAtomicPublish && cfg.AllowMsgTTL {
		return stream, nil
	}
	cfg.AllowAtomicPublish, cfg.AllowMsgTTL = true, true
	stream, err = js.UpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("KV bucket %s: allow atomic batches and message TTLs: %w", name, err)
	}
	if got := stream.CachedInfo().Config; !got.AllowAtomicPublish || !got.AllowMsgTTL {
		return nil, fmt.Errorf("KV bucket %s: the server does not keep atomic batches or message TTLs on (nats-server 2.12 or later needed)", name)
	}
	return stream, nil
}

// stored is the checkpoint entry as read.
type stored struct {
	cp  sink.Checkpoint
	doc []byte
	rev uint64 // the entry's stream sequence, 0 if there is none
	// redo names the staged writes of a transaction committed but not yet
	// fully written (see redo), "" if none.
	redo  string
	count int
}

// checkpoint reads the checkpoint entry.
func (b *bucket) checkpoint(ctx context.Context) (stored, error) {
	msg, err := b.stream.GetLastMsgForSubject(ctx, b.subject(CheckpointKey))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return stored{}, nil
	}
	if err != nil {
		return stored{}, fmt.Errorf("read the checkpoint of bucket %s: %w", b.name, err)
	}
	s := stored{doc: msg.Data, rev: msg.Sequence, redo: msg.Header.Get(headerRedo)}
	if err := json.Unmarshal(msg.Data, &s.cp); err != nil {
		return stored{}, fmt.Errorf("checkpoint of bucket %s: %w", b.name, err)
	}
	if s.redo != "" {
		if s.count, err = strconv.Atoi(msg.Header.Get(headerRedoCount)); err != nil {
			return stored{}, fmt.Errorf("checkpoint of bucket %s: header %s: %w", b.name, headerRedoCount, err)
		}
	}
	return s, nil
}

// settled reads the checkpoint entry, first finishing a transaction that
// committed without writing all its rows (a writer stopped in the middle).
func (b *bucket) settled(ctx context.Context) (stored, error) {
	for {
		s, err := b.checkpoint(ctx)
		if err != nil || s.redo == "" {
			return s, err
		}
		if err := b.finish(ctx, s); err != nil && !errors.Is(err, sink.ErrMoved) {
			return stored{}, err
		}
		// Finished, here or by another writer: read it again.
	}
}

// entry is a key's last message.
type entry struct {
	key    string
	seq    uint64
	header nats.Header
	data   []byte
}

func (e entry) removed() bool {
	op := e.header.Get(headerKVOperation)
	return op == "DEL" || op == "PURGE"
}

// scan calls fn with the messages of the bucket cfg selects, until it has
// none pending: messages stored while it reads are read too.
func (b *bucket) scan(ctx context.Context, cfg jetstream.ConsumerConfig, fn func(entry) error) error {
	cfg.AckPolicy = jetstream.AckNonePolicy
	cfg.MemoryStorage = true
	cfg.InactiveThreshold = time.Minute
	cons, err := b.stream.CreateConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("read bucket %s: %w", b.name, err)
	}
	defer b.stream.DeleteConsumer(context.WithoutCancel(ctx), cons.CachedInfo().Name)
	pending := cons.CachedInfo().NumPending
	for pending > 0 {
		batch, err := cons.Fetch(int(min(pending, 1000)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("read bucket %s: %w", b.name, err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			meta, err := msg.Metadata()
			if err != nil {
				return fmt.Errorf("read bucket %s: %w", b.name, err)
			}
			pending = meta.NumPending
			if err := fn(entry{key: b.key(msg.Subject()), seq: meta.Sequence.Stream, header: msg.Headers(), data: msg.Data()}); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("read bucket %s: %w", b.name, err)
		}
		if n == 0 {
			info, err := cons.Info(ctx)
			if err != nil {
				return fmt.Errorf("read bucket %s: %w", b.name, err)
			}
			pending = info.NumPending
		}
	}
	return nil
}

// rows calls fn with the last entry of every key under prefix that is not
// removed.
func (b *bucket) rows(ctx context.Context, prefix string, fn func(entry) error) error {
	return b.scan(ctx, jetstream.ConsumerConfig{FilterSubject: b.subject(prefix + ">"), DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy},
		func(e entry) error {
			if e.removed() || strings.HasPrefix(e.key, reservedPrefix) {
				return nil
			}
			return fn(e)
		})
}

// msg is the message that makes w so.
func (b *bucket) msg(w write) *nats.Msg {
	m := nats.NewMsg(b.subject(w.key))
	if w.remove {
		m.Header[headerKVOperation] = []string{"PURGE"}
		m.Header[jetstream.MsgRollup] = []string{jetstream.MsgRollupSubject}
		m.Header[jetstream.MsgTTLHeader] = []string{MarkerTTL.String()}
		return m
	}
	m.Data = w.value
	if w.jsonNull != "" {
		m.Header[HeaderJSONNull] = []string{w.jsonNull}
	}
	return m
}

func (b *bucket) checkpointMsg(doc []byte) *nats.Msg {
	m := nats.NewMsg(b.subject(CheckpointKey))
	m.Data = doc
	return m
}

// publish writes msgs as one atomic batch, if the checkpoint entry is still
// at revision rev (0: there is none): otherwise nothing of it is stored and
// the error wraps sink.ErrMoved. It returns the last message's sequence.
func (b *bucket) publish(ctx context.Context, rev uint64, msgs []*nats.Msg) (uint64, error) {
	id := nuid.Next()
	// Only the first message may carry an expected sequence; it fences the
	// whole batch, naming the checkpoint's subject.
	msgs[0].Header[jetstream.ExpectedLastSubjSeqHeader] = []string{strconv.FormatUint(rev, 10)}
	msgs[0].Header[jetstream.ExpectedLastSubjSeqSubjHeader] = []string{b.subject(CheckpointKey)}
	last := len(msgs) - 1
	for i, m := range msgs {
		m.Header[headerBatchID] = []string{id}
		m.Header[headerBatchSeq] = []string{strconv.Itoa(i + 1)}
	}
	for _, m := range msgs[:last] {
		// Staged by the server; only the commit is acknowledged, and a
		// batch never committed is dropped whole.
		if err := b.nc.PublishMsg(m); err != nil {
			return 0, fmt.Errorf("write to bucket %s: %w", b.name, err)
		}
	}
	msgs[last].Header[headerBatchCommit] = []string{"1"}
	ack, err := b.js.PublishMsg(ctx, msgs[last])
	if err != nil {
		return 0, b.publishError(len(msgs), rev, err)
	}
	return ack.Sequence, nil
}

// publishAll writes n messages, msg(i) making the i-th, in atomic batches of
// up to maxBatch, each fenced on rev, and returns the last one's sequence.
// Each batch lands whole or not at all, and the fence holds across them
// only while none of them moves the checkpoint: the checkpoint's message,
// if any, is the last.
func (b *bucket) publishAll(ctx context.Context, rev uint64, n int, msg func(i int) *nats.Msg) (uint64, error) {
	var seq uint64
	chunk := make([]*nats.Msg, 0, min(n, b.maxBatch))
	for start := 0; start < n; start += b.maxBatch {
		end := min(start+b.maxBatch, n)
		chunk = chunk[:0]
		for i := start; i < end; i++ {
			chunk = append(chunk, msg(i))
		}
		var err error
		if seq, err = b.publish(ctx, rev, chunk); err != nil {
			if n > b.maxBatch {
				err = fmt.Errorf("entries %d-%d of %d: %w", start+1, end, n, err)
			}
			return 0, err
		}
	}
	return seq, nil
}

func (b *bucket) publishError(n int, rev uint64, err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return fmt.Errorf("write %d entries to bucket %s: its checkpoint is no longer at revision %d: %w", n, b.name, rev, sink.ErrMoved)
	}
	return fmt.Errorf("write %d entries to bucket %s: %w", n, b.name, err)
}

// commit writes a transaction: its writes and then the checkpoint doc, if
// the checkpoint entry is still at revision rev. Up to one atomic batch of
// writes land all at once; more go through redo.
func (b *bucket) commit(ctx context.Context, rev uint64, writes []write, doc []byte) error {
	if len(writes)+1 <= b.maxBatch {
		return b.apply(ctx, rev, writes, doc)
	}
	s, err := b.stage(ctx, rev, writes, doc)
	if err != nil {
		return err
	}
	// Staged, the transaction is committed: another writer that finished
	// it first (sink.ErrMoved here) did this one's work.
	if err := b.complete(ctx, s, writes); err != nil && !errors.Is(err, sink.ErrMoved) {
		return err
	}
	return nil
}

// apply writes writes and then the checkpoint doc, fenced on rev: in one
// atomic batch if they fit, else in several, which only a redo (the writes
// staged, the checkpoint at rev naming them) makes one transaction.
func (b *bucket) apply(ctx context.Context, rev uint64, writes []write, doc []byte) error {
	_, err := b.publishAll(ctx, rev, len(writes)+1, func(i int) *nats.Msg {
		if i == len(writes) {
			return b.checkpointMsg(doc)
		}
		return b.msg(writes[i])
	})
	return err
}
