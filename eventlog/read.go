package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// From says where reading starts. The zero value is the first event.
type From struct {
	Seq  uint64    // a stream sequence, if non-zero
	Time time.Time // the first event stored at or after this time, if non-zero
	Last bool      // the last event
}

// StoredEvent is one event as stored.
type StoredEvent struct {
	Seq     uint64
	Subject string
	Stored  time.Time
	Header  nats.Header
	Body    []byte
	// Pending is how many events the stream held after this one when it
	// was delivered: 0 means the reader had caught up.
	Pending uint64
}

// ReadOptions choose what Read delivers.
type ReadOptions struct {
	From   From
	Follow bool   // keep delivering new events until ctx is done
	Filter string // subject filter, e.g. prefix.shop.orders.>; empty for all
}

// Read delivers the stream's events in stream order to fn through an
// ordered consumer (ephemeral, flow-controlled, recreated on gaps), until
// the events stored when it started are delivered or, with Follow, until
// ctx is done. An error from fn stops it and is returned.
func Read(ctx context.Context, nc *nats.Conn, stream string, opts ReadOptions, fn func(StoredEvent) error) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("open JetStream: %w", err)
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if opts.Filter != "" {
		cfg.FilterSubjects = []string{opts.Filter}
	}
	switch {
	case opts.From.Last:
		cfg.DeliverPolicy = jetstream.DeliverLastPolicy
	case opts.From.Seq > 0:
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = opts.From.Seq
	case !opts.From.Time.IsZero():
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		t := opts.From.Time
		cfg.OptStartTime = &t
	}
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("read stream %s: %w (check --stream, or start tributary first)", stream, ErrNoStream)
		}
		return fmt.Errorf("read stream %s: %w", stream, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read stream %s: consumer info: %w", stream, err)
	}
	if info.NumPending == 0 && !opts.Follow {
		return nil
	}
	return deliver(ctx, nc, cons, "read stream "+stream, func(ev StoredEvent) (bool, error) {
		if err := fn(ev); err != nil {
			return true, err
		}
		return ev.Pending == 0 && !opts.Follow, nil
	})
}

// deliver passes cons's messages to fn, asking for replayBatch at a time,
// until ctx is done or fn says it is done or returns an error (which
// deliver returns). what says what is being read, for its errors. fn is
// called from one goroutine at a time, never after deliver returns; it
// must return when ctx is done.
//
// It consumes through a callback rather than the message iterator: the
// iterator arms a timer for every message, which cost about 5% of the
// replay rate (docs/BENCHMARKS.md).
func deliver(ctx context.Context, nc *nats.Conn, cons jetstream.Consumer, what string, fn func(StoredEvent) (done bool, err error)) error {
	var (
		mu      sync.Mutex // one fn at a time, even across the ordered consumer's resets
		stopped bool       // under mu: no fn once deliver is returning
		end     = make(chan error, 1)
		errMu   sync.Mutex
		lastErr error // the last error the consumer reported, for when it stops
	)
	handle := func(msg jetstream.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		md, err := msg.Metadata()
		done := true
		if err != nil {
			err = fmt.Errorf("%s: %w", what, err)
		} else {
			done, err = fn(storedEvent(msg, md))
		}
		if done || err != nil {
			stopped = true
			end <- err
		}
	}
	report := func(_ jetstream.ConsumeContext, err error) {
		errMu.Lock()
		lastErr = err
		errMu.Unlock()
	}
	// The ordered consumer keeps trying to recreate itself when the
	// connection closes for good: only the connection says so.
	connClosed := nc.StatusChanged(nats.CLOSED)
	defer nc.RemoveStatusListener(connClosed)
	if nc.IsClosed() {
		return fmt.Errorf("%s: %w", what, nats.ErrConnectionClosed)
	}
	cc, err := cons.Consume(handle, jetstream.PullMaxMessages(replayBatch), jetstream.ConsumeErrHandler(report))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	closed := cc.Closed()
	defer func() {
		// Taking mu waits for a running fn, which closed alone does not
		// promise: it follows the current subscription, and a reset of
		// the ordered consumer can leave an earlier one's handler running.
		mu.Lock()
		stopped = true
		mu.Unlock()
		cc.Stop()
		<-closed
	}()
	select {
	case err := <-end:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-connClosed:
		return fmt.Errorf("%s: %w", what, nats.ErrConnectionClosed)
	case <-closed:
		// The consumer stopped; if fn ended delivery first, its result wins.
		select {
		case err := <-end:
			return err
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		errMu.Lock()
		defer errMu.Unlock()
		if lastErr == nil {
			lastErr = nats.ErrConnectionClosed
		}
		return fmt.Errorf("%s: delivery stopped: %w", what, lastErr)
	}
}

func storedEvent(msg jetstream.Msg, md *jetstream.MsgMetadata) StoredEvent {
	return StoredEvent{Seq: md.Sequence.Stream, Subject: msg.Subject(), Stored: md.Timestamp, Header: msg.Headers(),
		Body: msg.Data(), Pending: md.NumPending}
}

// Info is a stream's state, for status.
type Info struct {
	Stream   string
	Metadata map[string]string // what the writer recorded, without the "tributary." prefix
	Messages uint64
	Bytes    uint64
	FirstSeq uint64
	LastSeq  uint64
	LastTime time.Time
	Last     *LastEvent // StreamStatus only; nil for an empty stream
	// Values is the object store of the stream's large values (StreamStatus
	// only); nil if no value has needed it (docs/EVENTS.md, Large values).
	Values *ValuesInfo
}

// ValuesInfo is the state of a stream's large-value store.
type ValuesInfo struct {
	Bucket string
	Bytes  uint64
}

// StreamInfo reads a stream's state and metadata.
func StreamInfo(ctx context.Context, nc *nats.Conn, stream string) (Info, error) {
	info, _, err := streamInfo(ctx, nc, stream)
	return info, err
}

// StreamStatus is StreamInfo with the newest event (Info.Last), from one
// look-up of the stream.
func StreamStatus(ctx context.Context, nc *nats.Conn, stream string) (Info, error) {
	info, st, err := streamInfo(ctx, nc, stream)
	if err != nil {
		return Info{}, err
	}
	last, found, err := lastEventOf(ctx, st, st.CachedInfo())
	if err != nil {
		return Info{}, err
	}
	if found {
		info.Last = &last
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return Info{}, fmt.Errorf("open JetStream: %w", err)
	}
	os, err := js.ObjectStore(ctx, ValuesBucket(stream))
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		return info, nil
	case err != nil:
		return Info{}, fmt.Errorf("look up object store %s: %w", ValuesBucket(stream), err)
	}
	vs, err := os.Status(ctx)
	if err != nil {
		return Info{}, fmt.Errorf("read object store %s: %w", ValuesBucket(stream), err)
	}
	info.Values = &ValuesInfo{Bucket: vs.Bucket(), Bytes: vs.Size()}
	return info, nil
}

func streamInfo(ctx context.Context, nc *nats.Conn, stream string) (Info, jetstream.Stream, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return Info{}, nil, fmt.Errorf("open JetStream: %w", err)
	}
	st, err := lookupStream(ctx, js, stream)
	if err != nil {
		return Info{}, nil, err
	}
	si := st.CachedInfo()
	md := map[string]string{}
	for k, v := range si.Config.Metadata {
		if name, ok := strings.CutPrefix(k, metadataPrefix); ok {
			md[name] = v
		}
	}
	return Info{Stream: stream, Metadata: md, Messages: si.State.Msgs, Bytes: si.State.Bytes, FirstSeq: si.State.FirstSeq,
		LastSeq: si.State.LastSeq, LastTime: si.State.LastTime}, st, nil
}

// lookupStream returns the stream, or an error wrapping ErrNoStream if
// there is none.
func lookupStream(ctx context.Context, js jetstream.JetStream, stream string) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("stream %s: %w", stream, ErrNoStream)
	}
	if err != nil {
		return nil, fmt.Errorf("look up stream %s: %w", stream, err)
	}
	return st, nil
}

// replayBatch is how many messages a reader asks for at a time: enough to
// keep the server busy while the reader works through the last batch.
const replayBatch = 4096
