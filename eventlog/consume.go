package eventlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Consume delivers the stream's events in stream order to fn, from
// sequence from on, through the durable pull consumer named durable, until
// ctx is done or fn returns an error (which Consume returns).
//
// The consumer is a delivery cursor, not a checkpoint: it acknowledges
// nothing (AckNone), and the caller says where to start from its own
// checkpoint. A consumer of that name that would not deliver from there is
// replaced. Because it is durable, it survives restarts of the NATS server,
// and `nats consumer info` and `tributary status` show how far behind its
// reader is.
func Consume(ctx context.Context, nc *nats.Conn, stream, durable string, from uint64, fn func(StoredEvent) error) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("open JetStream: %w", err)
	}
	st, err := js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream %s: %w", stream, ErrNoStream)
	}
	if err != nil {
		return fmt.Errorf("look up stream %s: %w", stream, err)
	}
	cons, err := st.Consumer(ctx, durable)
	if err == nil {
		info := cons.CachedInfo()
		if info.Delivered.Stream+1 != from || info.Config.DeliverPolicy != jetstream.DeliverByStartSequencePolicy {
			if err := st.DeleteConsumer(ctx, durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
				return fmt.Errorf("replace consumer %s: %w", durable, err)
			}
			cons = nil
		}
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("look up consumer %s: %w", durable, err)
	}
	if cons == nil {
		cons, err = st.CreateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:       durable,
			Description:   "tributary read model: delivery cursor (the checkpoint is in the read model)",
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:   from,
			AckPolicy:     jetstream.AckNonePolicy,
			// A read model that is not running still shows its lag; one
			// gone for a week no longer holds server state.
			InactiveThreshold: 7 * 24 * time.Hour,
		})
		if err != nil {
			return fmt.Errorf("create consumer %s: %w", durable, err)
		}
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2000))
	if err != nil {
		return fmt.Errorf("consume %s: %w", durable, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	want := from
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err()
			}
			return fmt.Errorf("consume %s: %w", durable, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("consume %s: %w", durable, err)
		}
		if md.Sequence.Stream != want {
			// AckNone delivers each message once, in order; anything else
			// means the consumer was changed under us.
			return fmt.Errorf("consume %s: got stream sequence %d, want %d", durable, md.Sequence.Stream, want)
		}
		want++
		if err := fn(storedEvent(msg, md)); err != nil {
			return err
		}
	}
}

// ReadBaseline returns a stream's baseline (see BaselineBucket), or nil if
// it has none.
func ReadBaseline(ctx context.Context, nc *nats.Conn, stream string) ([]byte, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("open JetStream: %w", err)
	}
	return baseline(ctx, js, stream)
}
