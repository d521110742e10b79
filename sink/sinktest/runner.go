package sinktest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-cdc/tributary/eventlog/eventlogtest"
	"github.com/tributary-cdc/tributary/sink"
)

// stream is a JetStream stream the suite writes events to by hand, in the
// format of docs/EVENTS.md.
type stream struct {
	t  *testing.T
	nc *nats.Conn
	js jetstream.JetStream
	n  int
}

const streamName = "SINKTEST"

func newStream(t *testing.T) *stream {
	t.Helper()
	nc := eventlogtest.Connect(t, eventlogtest.StartServer(t, nil))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: streamName, Subjects: []string{"t.>"}}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	return &stream{t: t, nc: nc, js: js}
}

// change is one row change or DDL of a transaction.
type change struct {
	op            string // c, u, d, or s for DDL
	before, after map[string]any
	ddl           string
	columns       []sink.Column
	key           []string
}

// txn appends one source transaction and returns its last sequence.
func (s *stream) txn(changes ...change) uint64 {
	s.t.Helper()
	s.n++
	txid := "0-1-" + strconv.Itoa(s.n)
	var last uint64
	for i, c := range changes {
		body := map[string]any{"specversion": "1.0", "id": fmt.Sprintf("src:%s:%d", txid, i), "source": "/tributary/src",
			"time": time.Date(2026, 11, 25, 10, 0, s.n, 0, time.UTC).Format(time.RFC3339), "datacontenttype": "application/json",
			"txid": txid, "gtid": txid, "txindex": i, "txlast": i == len(changes)-1}
		var token string
		if c.op == "s" {
			token = "~schema"
			body["type"] = "shop.orders.schema_changed"
			data := map[string]any{"statement": c.ddl, "database": "shop", "charset": "utf8mb4", "primarykey": c.key, "columns": c.columns}
			if c.columns == nil {
				data["columns"], data["primarykey"], data["charset"] = []sink.Column{}, []string{}, nil
			}
			body["data"] = data
		} else {
			img := c.after
			if img == nil {
				img = c.before
			}
			token = fmt.Sprint(img["id"])
			body["type"] = "shop.orders.x"
			body["data"] = map[string]any{"op": c.op, "key": map[string]any{"id": img["id"]}, "before": c.before, "after": c.after}
		}
		body["subject"] = "shop.orders." + token
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		ack, err := s.js.Publish(context.Background(), "t.shop.orders."+token, b)
		if err != nil {
			s.t.Fatalf("publish: %v", err)
		}
		last = ack.Sequence
	}
	return last
}

var ordersColumns = orders.Columns

func create() change {
	return change{op: "s", ddl: "CREATE TABLE orders (id INT PRIMARY KEY, status VARCHAR(20), total DECIMAL(10,2))", columns: ordersColumns, key: []string{"id"}}
}

func ins(id int, status, total string) change {
	return change{op: "c", after: map[string]any{"id": id, "status": status, "total": total}}
}

func upd(id, newID int, status, total string) change {
	return change{op: "u", before: map[string]any{"id": id, "status": "?", "total": nil}, after: map[string]any{"id": newID, "status": status, "total": total}}
}

func del(id int) change {
	return change{op: "d", before: map[string]any{"id": id, "status": "?", "total": nil}}
}

func testRunner(t *testing.T, h Harness) {
	ctx := context.Background()
	s := newStream(t)
	tg := h.Open(t, "runner")
	opts := sink.Options{Name: "runner", Stream: streamName, Batch: 3}
	r := sink.NewRunner(s.nc, tg, opts)

	s.txn(create())
	s.txn(ins(1, "new", "1.00"), ins(2, "new", "2.00"))
	asOf := s.txn(upd(1, 1, "paid", "1.00"))
	s.txn(del(2), ins(3, "new", "3.00"))
	cp, err := r.Rebuild(ctx, sink.Until{}, nil)
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if cp.Seq != 6 || cp.TxID != "0-1-4" || cp.AsOf != "" {
		t.Errorf("Rebuild() checkpoint seq %d txid %s asof %q, want 6 0-1-4 \"\"", cp.Seq, cp.TxID, cp.AsOf)
	}
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"1", "paid", "1.00"}, {"3", "new", "3.00"}})

	// A transaction larger than the batch, a key change, a delete and
	// re-insert of one key: projected, then all equal to the source.
	var big []change
	for i := 10; i < 18; i++ {
		big = append(big, ins(i, "bulk", "0.10"))
	}
	s.txn(big...)
	s.txn(upd(3, 4, "moved", "3.00"), del(10), ins(10, "again", "10.00"))
	last := s.txn(upd(11, 11, "last", "0.10"))
	project(t, r, tg, last)
	want := [][]string{{"1", "paid", "1.00"}, {"4", "moved", "3.00"}, {"10", "again", "10.00"}, {"11", "last", "0.10"}}
	for i := 12; i < 18; i++ {
		want = append(want, []string{strconv.Itoa(i), "bulk", "0.10"})
	}
	wantRows(t, h, tg, sink.Live, orders.Name, want)

	// Restarted, it carries on from the checkpoint: nothing applied twice
	// (the one event since is one deleted key, and nothing else is written).
	last = s.txn(del(1))
	restarted := &counter{Target: tg}
	project(t, sink.NewRunner(s.nc, restarted, opts), tg, last)
	wantRows(t, h, tg, sink.Live, orders.Name, want[1:])
	if n := restarted.written.Load(); n != 1 {
		t.Errorf("restarted projection wrote %d rows and keys for one delete, want 1", n)
	}

	// As of a past point: the model is as it was then, and stays there.
	cp, err = r.Rebuild(ctx, sink.Until{Seq: asOf}, nil)
	if err != nil {
		t.Fatalf("Rebuild(as of seq %d): %v", asOf, err)
	}
	if cp.Seq != asOf || cp.AsOf != fmt.Sprintf("seq %d", asOf) {
		t.Errorf("Rebuild(as of seq %d) checkpoint seq %d asof %q", asOf, cp.Seq, cp.AsOf)
	}
	asOfRows := [][]string{{"1", "paid", "1.00"}, {"2", "new", "2.00"}}
	wantRows(t, h, tg, sink.Live, orders.Name, asOfRows)
	pinned, err := tg.Checkpoint(ctx, sink.Live)
	if err != nil {
		t.Fatalf("Checkpoint(live): %v", err)
	}
	// The projection reads the checkpoint, finds the model pinned and
	// comes back to look again later: once it has read it twice, it has
	// had its chance to apply the events past the point, and must not
	// have begun a single transaction.
	watched := &counter{Target: tg}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sink.NewRunner(s.nc, watched, opts).Project(pctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for watched.checkpoints.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Project on a pinned model: %v", err)
	}
	if n := watched.checkpoints.Load(); n < 2 {
		t.Errorf("Project on a pinned model read its checkpoint %d times in 20s, want it to look again", n)
	}
	if n := watched.begins.Load(); n != 0 {
		t.Errorf("Project on a pinned model began %d transactions, want none", n)
	}
	wantRows(t, h, tg, sink.Live, orders.Name, asOfRows)
	wantCheckpoint(t, tg, sink.Live, pinned)

	// As of a time: the transactions committed up to then (the fourth
	// transaction's second).
	cp, err = r.Rebuild(ctx, sink.Until{Time: time.Date(2026, 11, 25, 10, 0, 4, 500, time.UTC)}, nil)
	if err != nil {
		t.Fatalf("Rebuild(as of time): %v", err)
	}
	if cp.Seq != 6 {
		t.Errorf("Rebuild(as of 10:00:04.0000005) checkpoint seq %d, want 6", cp.Seq)
	}
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"1", "paid", "1.00"}, {"3", "new", "3.00"}})

	// Rebuilt to the end again, the projection follows it once more.
	if _, err := r.Rebuild(ctx, sink.Until{}, nil); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	last = s.txn(ins(1, "back", "1.00"))
	project(t, r, tg, last)
	wantRows(t, h, tg, sink.Live, orders.Name, append([][]string{{"1", "back", "1.00"}}, want[1:]...))

	// A DDL event that drops the table drops it.
	last = s.txn(change{op: "s", ddl: "DROP TABLE orders"})
	project(t, r, tg, last)
	if _, ok := h.Rows(t, tg, sink.Live, orders.Name); ok {
		t.Errorf("table still there after DROP TABLE was projected")
	}
}

// project runs r.Project until the live checkpoint reaches seq.
func project(t *testing.T, r *sink.Runner, tg sink.Target, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Project(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cp, err := tg.Checkpoint(context.Background(), sink.Live)
		if err == nil && cp.Seq >= seq {
			break
		}
		if time.Now().After(deadline) {
			// Stopped before the test ends, so that it writes nothing
			// after, into a target being closed.
			cancel()
			t.Fatalf("projection did not reach sequence %d in 20s (at %d, err %v; Project: %v)", seq, cp.Seq, err, <-done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Project: %v", err)
	}
}

// counter is a Target that counts what the Runner asks of it.
type counter struct {
	sink.Target
	checkpoints atomic.Int64 // Checkpoint calls
	begins      atomic.Int64 // transactions begun
	written     atomic.Int64 // rows upserted and keys deleted
}

func (c *counter) Checkpoint(ctx context.Context, m sink.Model) (sink.Checkpoint, error) {
	c.checkpoints.Add(1)
	return c.Target.Checkpoint(ctx, m)
}

func (c *counter) Begin(ctx context.Context, m sink.Model) (sink.Tx, error) {
	c.begins.Add(1)
	tx, err := c.Target.Begin(ctx, m)
	if err != nil {
		return nil, err
	}
	return &counterTx{Tx: tx, c: c}, nil
}

type counterTx struct {
	sink.Tx
	c *counter
}

func (tx *counterTx) Upsert(ctx context.Context, t sink.Table, rows []sink.Row) error {
	tx.c.written.Add(int64(len(rows)))
	return tx.Tx.Upsert(ctx, t, rows)
}

func (tx *counterTx) Delete(ctx context.Context, t sink.Table, keys []sink.Row) error {
	tx.c.written.Add(int64(len(keys)))
	return tx.Tx.Delete(ctx, t, keys)
}
