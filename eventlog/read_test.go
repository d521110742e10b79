package eventlog

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-cdc/tributary/eventlog/eventlogtest"
)

// fill appends n transactions of rows rows each to stream EV and returns
// the ids of the events in stream order.
func fill(t *testing.T, nc *nats.Conn, n, rows int) []string {
	t.Helper()
	ctx := context.Background()
	s := open(t, nc, Config{Stream: "EV", Prefix: "cdc"})
	var ids []string
	for i := range n {
		b := testEvents(fmt.Sprintf("0-1-%d", 10+i), rows, true)
		for _, ev := range b.Events {
			ids = append(ids, string(ev.Body))
		}
		if err := s.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}

type delivered struct {
	Seq, Pending uint64
	Body         string
}

func TestRead(t *testing.T) {
	nc := startServer(t)
	ids := fill(t, nc, 3, 2)
	for _, tc := range []struct {
		name string
		opts ReadOptions
		from int // index into ids of the first event delivered
	}{
		{"all", ReadOptions{}, 0},
		{"from sequence", ReadOptions{From: From{Seq: 4}}, 3},
		{"last", ReadOptions{From: From{Last: true}}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []delivered
			err := Read(context.Background(), nc, "EV", tc.opts, func(ev StoredEvent) error {
				got = append(got, delivered{ev.Seq, ev.Pending, string(ev.Body)})
				return nil
			})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			var want []delivered
			for i := tc.from; i < len(ids); i++ {
				want = append(want, delivered{uint64(i + 1), uint64(len(ids) - i - 1), ids[i]})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("delivered (-want +got):\n%s", diff)
			}
		})
	}
}

// fn's error ends Read, and fn is not called again: not for the messages
// already buffered (their calls would come before Read returns), and not
// later (Read leaves no subscription that could deliver one).
func TestReadError(t *testing.T) {
	nc := startServer(t)
	fill(t, nc, 50, 100)
	subs := nc.NumSubscriptions()
	stop := errors.New("stop here")
	var calls atomic.Int32
	err := Read(context.Background(), nc, "EV", ReadOptions{}, func(ev StoredEvent) error {
		if calls.Add(1) == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Read = %v, want %v", err, stop)
	}
	if n := calls.Load(); n != 10 {
		t.Fatalf("fn called %d times, want 10", n)
	}
	if n := nc.NumSubscriptions(); n != subs {
		t.Fatalf("%d subscriptions after Read returned, want the %d there were before it", n, subs)
	}
}

// A reader following the stream learns that its connection closed instead
// of waiting forever.
func TestReadFollowConnectionClosed(t *testing.T) {
	srv := eventlogtest.StartServer(t, nil)
	nc := eventlogtest.Connect(t, srv)
	fill(t, nc, 1, 3)
	reader := eventlogtest.Connect(t, srv)
	var seen atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- Read(context.Background(), reader, "EV", ReadOptions{Follow: true}, func(StoredEvent) error {
			if seen.Add(1) == 3 {
				reader.Close()
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, nats.ErrConnectionClosed) {
			t.Fatalf("Read = %v, want %v", err, nats.ErrConnectionClosed)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read did not return within 10s of its connection closing")
	}
}

// Consume delivers from the given sequence on, and says so when its
// consumer is deleted under it instead of waiting forever.
func TestConsume(t *testing.T) {
	nc := startServer(t)
	ids := fill(t, nc, 2, 3)
	ctx := context.Background()
	got := make(chan string, len(ids))
	done := make(chan error, 1)
	go func() {
		done <- Consume(ctx, nc, "EV", "reader", 3, func(ev StoredEvent) error {
			got <- fmt.Sprintf("%d %s", ev.Seq, ev.Body)
			return nil
		})
	}()
	var want, have []string
	for i := 2; i < len(ids); i++ {
		want = append(want, fmt.Sprintf("%d %s", i+1, ids[i]))
		select {
		case s := <-got:
			have = append(have, s)
		case <-time.After(10 * time.Second):
			t.Fatalf("after %v, nothing delivered within 10s", have)
		}
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Fatalf("delivered (-want +got):\n%s", diff)
	}
	js, _ := jetstream.New(nc)
	if err := js.DeleteConsumer(ctx, "EV", "reader"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, jetstream.ErrConsumerDeleted) {
			t.Fatalf("Consume = %v, want %v", err, jetstream.ErrConsumerDeleted)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Consume did not return within 10s of its consumer being deleted")
	}
}
