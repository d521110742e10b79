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
// and `nats consumer info` shows how far behind its reader is.
func Consume(ctx context.Context, nc *nats.Conn, stream, durable string, from uint64, fn func(StoredEvent) error) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("open JetStream: %w", err)
	}
	st, err := lookupStream(ctx, js, stream)
	if err != nil {
		return err
	}
	cons, err := cursor(ctx, st, durable, from)
	if err != nil {
		return err
	}
	want := from
	return deliver(ctx, nc, cons, "consume "+durable, func(ev StoredEvent) (bool, error) {
		if ev.Seq != want {
			// AckNone delivers each message once, in order; anything else
			// means the consumer was changed under us.
			return true, fmt.Errorf("consume %s: got stream sequence %d, want %d", durable, ev.Seq, want)
		}
		want++
		return false, fn(ev)
	})
}

// cursor returns the durable consumer named durable, delivering from
// sequence from on: the one there is if it would, a new one otherwise.
func cursor(ctx context.Context, st jetstream.Stream, durable string, from uint64) (jetstream.Consumer, error) {
	cons, err := st.Consumer(ctx, durable)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
	case err != nil:
		return nil, fmt.Errorf("look up consumer %s: %w", durable, err)
	default:
		info := cons.CachedInfo()
		if info.Delivered.Stream+1 == from && info.Config.DeliverPolicy == jetstream.DeliverByStartSequencePolicy {
			return cons, nil
		}
		if err := st.DeleteConsumer(ctx, durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("replace consumer %s: %w", durable, err)
		}
	}
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
		return nil, fmt.Errorf("create consumer %s: %w", durable, err)
	}
	return cons, nil
}
