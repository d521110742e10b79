package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-cdc/tributary/eventlog/eventlogtest"
	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sinktest"
)

func TestContract(t *testing.T) {
	servers := map[*testing.T]*server.Server{}
	urls := map[sink.Target]string{}
	sinktest.Run(t, sinktest.Harness{
		Open: func(t *testing.T, name string) sink.Target {
			srv, ok := servers[t]
			if !ok {
				srv = startServer(t, 0)
				servers[t] = srv
			}
			tg := open(t, srv.ClientURL(), name, 0)
			t.Cleanup(func() { tg.Close() })
			urls[tg] = srv.ClientURL()
			return tg
		},
		Rows: func(t *testing.T, tg sink.Target, m sink.Model, table sink.TableName) ([][]string, bool) {
			return readRows(t, urls[tg], tg.(*Target).Bucket(m), table)
		},
	})
}

// startServer runs a nats-server with JetStream in the test, on a random
// loopback port. maxBatch, if not 0, is its limit on the messages of one
// atomic batch (jetstream.limits.max_batch_size): a test that sets a
// target's maxBatch lower than the default gives the server the same
// limit, so that a batch over it fails instead of passing unnoticed.
func startServer(t *testing.T, maxBatch int) *server.Server {
	t.Helper()
	return eventlogtest.StartServer(t, func(o *server.Options) { o.JetStreamLimits.MaxBatchSize = maxBatch })
}

// open opens the target of the sink named name on the server at url, on a
// connection of its own; maxBatch, if not 0, is its limit on the messages
// of one atomic batch, which should be the server's (startServer).
func open(t *testing.T, url, name string, maxBatch int) *Target {
	t.Helper()
	tg, err := Open(context.Background(), connect(t, url), name)
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	if maxBatch != 0 {
		tg.maxBatch = maxBatch
	}
	return tg
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// readRows reads a table of a bucket as a reader would, through the KV API
// on a connection of its own: the table's columns from the checkpoint, its
// rows by key, ordered by the (integer) first key value, each value as
// text (strings unquoted, null as NULL).
func readRows(t *testing.T, url, bucket string, table sink.TableName) ([][]string, bool) {
	t.Helper()
	ctx := context.Background()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("reader connect: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("bucket %s: %v", bucket, err)
	}
	e, err := kv.Get(ctx, CheckpointKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("read the checkpoint of %s: %v", bucket, err)
	}
	var cp sink.Checkpoint
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		t.Fatalf("checkpoint of %s: %v", bucket, err)
	}
	tb, ok := cp.Table(table)
	if !ok {
		return nil, false
	}
	lister, err := kv.ListKeysFiltered(ctx, TablePrefix(table.Table)+">")
	if err != nil {
		t.Fatalf("list %s: %v", table, err)
	}
	type keyed struct {
		id  int64
		row []string
	}
	var rows []keyed
	for key := range lister.Keys() {
		e, err := kv.Get(ctx, key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		_, values, err := ParseKey(key)
		if err != nil {
			t.Fatal(err)
		}
		id, err := strconv.ParseInt(values[0], 10, 64)
		if err != nil {
			t.Fatalf("key %s: %v", key, err)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(e.Value(), &obj); err != nil {
			t.Fatalf("value of %s: %v", key, err)
		}
		row := make([]string, len(tb.Columns))
		for i, c := range tb.Columns {
			row[i] = text(obj[c.Name])
		}
		rows = append(rows, keyed{id, row})
	}
	slices.SortFunc(rows, func(a, b keyed) int { return cmpInt(a.id, b.id) })
	out := [][]string{}
	for _, r := range rows {
		out = append(out, r.row)
	}
	return out, true
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func text(v json.RawMessage) string {
	if v == nil || isNull(v) {
		return "NULL"
	}
	if s, err := sink.String(v); err == nil {
		return s
	}
	return string(v)
}

var items = sink.Table{
	Name: sink.TableName{Database: "shop", Table: "items"},
	Columns: []sink.Column{
		{Name: "id", Type: "int(11)"},
		{Name: "name", Type: "varchar(20)", Nullable: true, Charset: "utf8mb4"},
	},
	Key: []string{"id"},
}

func item(id int, name string) sink.Row {
	n, _ := json.Marshal(name)
	return sink.Row{"id": json.RawMessage(strconv.Itoa(id)), "name": n}
}

func itemRows(from, to int, name string) [][]string {
	var out [][]string
	for i := from; i <= to; i++ {
		out = append(out, []string{strconv.Itoa(i), fmt.Sprintf("%s%d", name, i)})
	}
	return out
}

// commit runs fn in one transaction of model m and commits checkpoint seq.
func commit(t *testing.T, tg *Target, m sink.Model, seq uint64, tables []sink.Table, fn func(tx sink.Tx) error) {
	t.Helper()
	ctx := context.Background()
	tx, err := tg.Begin(ctx, m)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	defer tx.Rollback()
	if _, err := tx.Checkpoint(ctx); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	if err := fn(tx); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if err := tx.Commit(ctx, sink.Checkpoint{Seq: seq, Tables: tables}); err != nil {
		t.Fatalf("Commit(seq %d): %v", seq, err)
	}
}

func insertItems(from, to int, name string) func(tx sink.Tx) error {
	return func(tx sink.Tx) error {
		var rows []sink.Row
		for i := from; i <= to; i++ {
			rows = append(rows, item(i, fmt.Sprintf("%s%d", name, i)))
		}
		return tx.Upsert(context.Background(), items, rows)
	}
}

// keysUnder lists a bucket's keys (removed ones left out) that start with
// prefix.
func keysUnder(t *testing.T, tg *Target, m sink.Model, prefix string) []string {
	t.Helper()
	b, err := tg.bucket(context.Background(), m, false)
	if err != nil || b == nil {
		t.Fatalf("bucket %s: %v", tg.Bucket(m), err)
	}
	var keys []string
	err = b.scan(context.Background(), jetstream.ConsumerConfig{FilterSubject: b.subject(">"), DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy},
		func(e entry) error {
			if !e.removed() && strings.HasPrefix(e.key, prefix) {
				keys = append(keys, e.key)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestLargeTransaction: transactions, table changes and a Promote with more
// writes than one atomic batch holds go through the redo log and end as
// one would.
func TestLargeTransaction(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, 10)
	tg := open(t, srv.ClientURL(), "big", 10)
	spy := &checkpointSpy{JetStream: tg.js}
	tg.js = spy
	create := func(tx sink.Tx) error { return tx.CreateTable(ctx, items) }
	commit(t, tg, sink.Live, 1, []sink.Table{items}, func(tx sink.Tx) error {
		if err := create(tx); err != nil {
			return err
		}
		return insertItems(1, 25, "n")(tx)
	})
	spy.wantRedo(t, "Commit of 25 rows")
	wantRows(t, srv.ClientURL(), tg.Bucket(sink.Live), items.Name, itemRows(1, 25, "n"))

	renamed := sink.Table{Name: items.Name, Key: items.Key, Columns: []sink.Column{items.Columns[0],
		{Name: "title", Type: "varchar(20)", Nullable: true, Charset: "utf8mb4"}, {Name: "note", Type: "text", Nullable: true}}}
	commit(t, tg, sink.Live, 2, []sink.Table{renamed}, func(tx sink.Tx) error {
		if err := tx.Delete(ctx, items, []sink.Row{{"id": json.RawMessage("1")}, {"id": json.RawMessage("2")}}); err != nil {
			return err
		}
		return tx.AlterTable(ctx, items, renamed, map[string]string{"title": "name"})
	})
	spy.wantRedo(t, "Commit of AlterTable")
	want := [][]string{}
	for _, r := range itemRows(3, 25, "n") {
		want = append(want, append(r, "NULL"))
	}
	wantRows(t, srv.ClientURL(), tg.Bucket(sink.Live), items.Name, want)
	wantCheckpointSeq(t, tg, sink.Live, 2)

	commit(t, tg, sink.Shadow, 7, []sink.Table{items}, func(tx sink.Tx) error {
		if err := create(tx); err != nil {
			return err
		}
		return insertItems(20, 50, "s")(tx)
	})
	spy.wantRedo(t, "Commit of 31 shadow rows")
	if err := tg.Promote(ctx); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	spy.wantRedo(t, "Promote")
	wantRows(t, srv.ClientURL(), tg.Bucket(sink.Live), items.Name, itemRows(20, 50, "s"))
	wantCheckpointSeq(t, tg, sink.Live, 7)
	if keys := keysUnder(t, tg, sink.Live, redoPrefix); len(keys) > 0 {
		t.Errorf("staged writes left behind: %v", keys)
	}
}

// checkpointSpy is a target's JetStream with its checkpoint writes
// recorded. With loseRedoAck set it reports the write that commits a redo
// (the checkpoint naming staged writes) as failed after the server has
// stored it, as when its acknowledgement is lost.
type checkpointSpy struct {
	jetstream.JetStream
	headers     []nats.Header
	loseRedoAck bool
}

func (s *checkpointSpy) PublishMsg(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	ack, err := s.JetStream.PublishMsg(ctx, m, opts...)
	if strings.HasSuffix(m.Subject, "."+CheckpointKey) {
		s.headers = append(s.headers, m.Header)
		if err == nil && s.loseRedoAck && m.Header.Get(headerRedo) != "" {
			return nil, nats.ErrTimeout
		}
	}
	return ack, err
}

// wantRedo checks that the checkpoint writes since the last call were a
// redo's: its commit point, naming staged writes, then its completion.
func (s *checkpointSpy) wantRedo(t *testing.T, what string) {
	t.Helper()
	var got []string
	for _, h := range s.headers {
		got = append(got, h.Get(headerRedoCount))
	}
	s.headers = nil
	if len(got) != 2 || got[0] == "" || got[1] != "" {
		t.Errorf("%s wrote checkpoints with %s %q, want a redo: [count \"\"]", what, headerRedoCount, got)
	}
}

func wantRows(t *testing.T, url, bucket string, table sink.TableName, want [][]string) {
	t.Helper()
	got, ok := readRows(t, url, bucket, table)
	if !ok {
		t.Fatalf("bucket %s has no table %s", bucket, table)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("rows of %s in %s (-want +got):\n%s", table, bucket, diff)
	}
}

func wantCheckpointSeq(t *testing.T, tg *Target, m sink.Model, seq uint64) {
	t.Helper()
	cp, err := tg.Checkpoint(context.Background(), m)
	if err != nil || cp.Seq != seq {
		t.Errorf("Checkpoint(%s) = seq %d, %v, want seq %d", m, cp.Seq, err, seq)
	}
}

// TestRedoRecovery: a writer that stops after committing a large
// transaction but before writing its rows leaves it to the next writer,
// which finishes it before anything else.
func TestRedoRecovery(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, 4)
	tg := open(t, srv.ClientURL(), "redo", 4)
	commit(t, tg, sink.Live, 1, []sink.Table{items}, func(tx sink.Tx) error { return tx.CreateTable(ctx, items) })

	// Steps 1 and 2 of a commit, and then the writer stops.
	tx, err := tg.Begin(ctx, sink.Live)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := insertItems(1, 9, "r")(tx); err != nil {
		t.Fatal(err)
	}
	x := tx.(*Tx)
	doc, _ := json.Marshal(sink.Checkpoint{Seq: 2, Tables: []sink.Table{items}})
	if _, err := x.b.stage(ctx, x.rev, x.list, doc); err != nil {
		t.Fatalf("stage: %v", err)
	}
	wantRows(t, srv.ClientURL(), tg.Bucket(sink.Live), items.Name, [][]string{})

	wantFinishedByNext(t, srv.ClientURL(), "redo", tg, "a stopped commit")
	// The stopped writer's transaction cannot commit again.
	if err := tx.Commit(ctx, sink.Checkpoint{Seq: 2}); !errors.Is(err, sink.ErrMoved) {
		t.Errorf("Commit of the stopped transaction = %v, want an error wrapping sink.ErrMoved", err)
	}
}

// TestLostRedoAcknowledgement: a writer that does not learn whether the
// write committing its redo was stored leaves the staged writes, which the
// next writer needs if it was (it was: the server stored it before the
// acknowledgement got lost).
func TestLostRedoAcknowledgement(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, 4)
	tg := open(t, srv.ClientURL(), "lost", 4)
	commit(t, tg, sink.Live, 1, []sink.Table{items}, func(tx sink.Tx) error { return tx.CreateTable(ctx, items) })
	tg.js = &checkpointSpy{JetStream: tg.js, loseRedoAck: true}
	tx, err := tg.Begin(ctx, sink.Live)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := insertItems(1, 9, "r")(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx, sink.Checkpoint{Seq: 2, Tables: []sink.Table{items}}); err == nil {
		t.Fatal("Commit with its acknowledgement lost = nil, want an error")
	}

	wantFinishedByNext(t, srv.ClientURL(), "lost", tg, "a lost acknowledgement")
}

// wantFinishedByNext checks that the next writer of the live model of the
// sink named name (a target of its own, as another process's), finishes
// the redo tg left behind after what before it reads the checkpoint: the
// checkpoint at seq 2, the redo's rows (items 1 to 9 "r") all there, and
// no staged writes left.
func wantFinishedByNext(t *testing.T, url, name string, tg *Target, what string) {
	t.Helper()
	ctx := context.Background()
	tx, err := open(t, url, name, tg.maxBatch).Begin(ctx, sink.Live)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	cp, err := tx.Checkpoint(ctx)
	if err != nil || cp.Seq != 2 {
		t.Fatalf("Tx.Checkpoint() after %s = seq %d, %v, want seq 2", what, cp.Seq, err)
	}
	wantRows(t, url, tg.Bucket(sink.Live), items.Name, itemRows(1, 9, "r"))
	if keys := keysUnder(t, tg, sink.Live, redoPrefix); len(keys) > 0 {
		t.Errorf("staged writes left behind: %v", keys)
	}
}

// TestTableWithoutKey: a table with no key can be created, as in the SQL
// targets (the Runner stops at its first row, with a hint), but a row of
// it, or a table's rows altered to have no key, stop the sink.
func TestTableWithoutKey(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, 0)
	tg := open(t, srv.ClientURL(), "nokey", 0)
	log := sink.Table{Name: sink.TableName{Database: "shop", Table: "log"}, Columns: items.Columns}
	commit(t, tg, sink.Live, 1, []sink.Table{log, items}, func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, log); err != nil {
			return err
		}
		if err := tx.CreateTable(ctx, items); err != nil {
			return err
		}
		return insertItems(1, 2, "n")(tx)
	})
	wantRows(t, srv.ClientURL(), tg.Bucket(sink.Live), log.Name, [][]string{})

	keyless := items
	keyless.Key = nil
	for _, tt := range []struct {
		name string
		fn   func(tx sink.Tx) error
	}{
		{"Upsert", func(tx sink.Tx) error { return tx.Upsert(ctx, log, []sink.Row{item(1, "a")}) }},
		{"AlterTable", func(tx sink.Tx) error { return tx.AlterTable(ctx, items, keyless, nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := tg.Begin(ctx, sink.Live)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if err := tt.fn(tx); !errors.Is(err, sink.ErrValue) {
				t.Errorf("%s = %v, want an error wrapping sink.ErrValue", tt.name, err)
			}
		})
	}
}

// TestTableChangesInOneTransaction: rows written, table changes and more
// rows in one transaction each see what the ones before them did.
func TestTableChangesInOneTransaction(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, 0)
	tg := open(t, srv.ClientURL(), "ddl", 0)
	commit(t, tg, sink.Live, 1, []sink.Table{items}, func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, items); err != nil {
			return err
		}
		return insertItems(1, 5, "n")(tx)
	})
	titled := sink.Table{Name: items.Name, Key: items.Key, Columns: []sink.Column{items.Columns[0],
		{Name: "title", Type: "varchar(20)", Nullable: true, Charset: "utf8mb4"}, {Name: "note", Type: "text", Nullable: true}}}
	untitled := titled
	untitled.Columns = titled.Columns[:2]
	goods := untitled
	goods.Name = sink.TableName{Database: "shop", Table: "goods"}
	commit(t, tg, sink.Live, 2, []sink.Table{goods, items}, func(tx sink.Tx) error {
		steps := []func() error{
			func() error { return tx.Upsert(ctx, items, []sink.Row{item(6, "n6")}) },
			func() error { return tx.Delete(ctx, items, []sink.Row{{"id": json.RawMessage("1")}}) },
			func() error { return tx.AlterTable(ctx, items, titled, map[string]string{"title": "name"}) },
			func() error {
				return tx.Upsert(ctx, titled, []sink.Row{{"id": json.RawMessage("7"), "title": json.RawMessage(`"n7"`), "note": nil}})
			},
			func() error { return tx.AlterTable(ctx, titled, untitled, nil) },
			func() error { return tx.Delete(ctx, untitled, []sink.Row{{"id": json.RawMessage("2")}}) },
			func() error { return tx.RenameTable(ctx, untitled, goods.Name) },
			func() error { return tx.CreateTable(ctx, items) },
			func() error { return tx.Upsert(ctx, items, []sink.Row{item(1, "again1")}) },
		}
		for i, step := range steps {
			if err := step(); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		}
		return nil
	})
	wantRows(t, srv.ClientURL(), tg.Bucket(sink.Live), goods.Name, itemRows(3, 7, "n"))
	wantRows(t, srv.ClientURL(), tg.Bucket(sink.Live), items.Name, itemRows(1, 1, "again"))
}

// TestConflict: two writers from the same checkpoint cannot both commit,
// whatever the size of their transactions, and the loser leaves nothing.
func TestConflict(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, 5)
	tg := open(t, srv.ClientURL(), "race", 5)
	commit(t, tg, sink.Live, 1, []sink.Table{items}, func(tx sink.Tx) error { return tx.CreateTable(ctx, items) })
	for _, tt := range []struct {
		name string
		rows int
	}{{"one batch", 2}, {"redo", 12}} {
		t.Run(tt.name, func(t *testing.T) {
			var txs []sink.Tx
			for range 2 {
				tx, err := tg.Begin(ctx, sink.Live)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if _, err := tx.Checkpoint(ctx); err != nil {
					t.Fatal(err)
				}
				txs = append(txs, tx)
			}
			before, err := tg.Checkpoint(ctx, sink.Live)
			if err != nil {
				t.Fatal(err)
			}
			if err := insertItems(100, 100+tt.rows, "first")(txs[0]); err != nil {
				t.Fatal(err)
			}
			if err := insertItems(200, 200+tt.rows, "second")(txs[1]); err != nil {
				t.Fatal(err)
			}
			if err := txs[0].Commit(ctx, sink.Checkpoint{Seq: before.Seq + 1, Tables: []sink.Table{items}}); err != nil {
				t.Fatalf("first Commit: %v", err)
			}
			if err := txs[1].Commit(ctx, sink.Checkpoint{Seq: before.Seq + 1, Tables: []sink.Table{items}}); !errors.Is(err, sink.ErrMoved) {
				t.Fatalf("second Commit = %v, want an error wrapping sink.ErrMoved", err)
			}
			for _, k := range keysUnder(t, tg, sink.Live, "") {
				if strings.HasPrefix(k, TablePrefix("items")+"2") || strings.HasPrefix(k, redoPrefix) {
					t.Errorf("the losing transaction left %s", k)
				}
			}
		})
	}
}

// TestJSONNull: a JSON column's document null and SQL NULL both read null
// in the value; the entry's header tells them apart, and a row read back
// (as AlterTable and Promote do) keeps them apart.
func TestJSONNull(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, 0)
	tg := open(t, srv.ClientURL(), "docs", 0)
	docs := sink.Table{Name: sink.TableName{Database: "shop", Table: "docs"}, Key: []string{"id"},
		Columns: []sink.Column{{Name: "id", Type: "bigint(20) unsigned"}, {Name: "doc", Type: "json", Nullable: true}}}
	rows := []sink.Row{
		{"id": json.RawMessage("1"), "doc": nil},
		{"id": json.RawMessage("2"), "doc": json.RawMessage("null")},
		{"id": json.RawMessage("18446744073709551615"), "doc": json.RawMessage(`{"k": [1, "x", null]}`)},
	}
	commit(t, tg, sink.Live, 1, []sink.Table{docs}, func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, docs); err != nil {
			return err
		}
		return tx.Upsert(ctx, docs, rows)
	})
	b, err := tg.bucket(ctx, sink.Live, false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]sink.Row{}
	header := map[string]string{}
	err = b.rows(ctx, TablePrefix("docs"), func(e entry) error {
		row, err := decode(e.data, e.header.Get(HeaderJSONNull))
		got[e.key], header[e.key] = row, e.header.Get(HeaderJSONNull)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]sink.Row{
		"docs.1":                    rows[0],
		"docs.2":                    rows[1],
		"docs.18446744073709551615": {"id": rows[2]["id"], "doc": json.RawMessage(`{"k":[1,"x",null]}`)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows read back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"docs.1": "", "docs.2": `["doc"]`, "docs.18446744073709551615": ""}, header); diff != "" {
		t.Errorf("header %s (-want +got):\n%s", HeaderJSONNull, diff)
	}
}

func TestValueErrors(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, 0)
	tg := open(t, srv.ClientURL(), "bad", 0)
	commit(t, tg, sink.Live, 1, []sink.Table{items}, func(tx sink.Tx) error { return tx.CreateTable(ctx, items) })
	long, _ := json.Marshal(strings.Repeat(".", maxKeyLen/3+1)) // each '.' escaped in 3 bytes
	tests := []struct {
		name string
		key  []string // the table's key; nil for items's
		row  sink.Row
	}{
		{"text in an int column", nil, sink.Row{"id": json.RawMessage(`"1"`), "name": nil}},
		{"int out of range", nil, sink.Row{"id": json.RawMessage(`9223372036854775808`), "name": nil}},
		{"int(11) out of range", nil, sink.Row{"id": json.RawMessage(`2147483648`), "name": nil}},
		{"number in a text column", nil, sink.Row{"id": json.RawMessage(`1`), "name": json.RawMessage(`1`)}},
		{"NULL key", nil, sink.Row{"id": nil, "name": nil}},
		{"key too long", []string{"id", "name"}, sink.Row{"id": json.RawMessage(`1`), "name": long}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := items
			if tt.key != nil {
				table.Key = tt.key
			}
			tx, err := tg.Begin(ctx, sink.Live)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if err := tx.Upsert(ctx, table, []sink.Row{tt.row}); !errors.Is(err, sink.ErrValue) {
				t.Errorf("Upsert(%v) = %v, want an error wrapping sink.ErrValue", tt.row, err)
			}
		})
	}
}

func TestConvert(t *testing.T) {
	col := func(typ string) sink.Column { return sink.Column{Name: "c", Type: typ, Charset: "utf8mb4"} }
	tests := []struct {
		name     string
		from, to string
		in, want string // want "" for an error
	}{
		{"same type", "int(11)", "int(11)", `5`, `5`},
		{"widened", "int(11)", "bigint(20)", `5`, `5`},
		{"int to text", "int(11)", "varchar(10)", `-5`, `"-5"`},
		{"text to int", "varchar(10)", "int(11)", `"12"`, `12`},
		{"text not a number", "varchar(10)", "int(11)", `"abc"`, ""},
		{"int to decimal", "int(11)", "decimal(5,2)", `5`, `"5.00"`},
		{"decimal wider scale", "decimal(10,2)", "decimal(10,3)", `"-1.50"`, `"-1.500"`},
		{"decimal rounded", "decimal(10,3)", "decimal(10,2)", `"9.995"`, `"10.00"`},
		{"decimal to int", "decimal(10,0)", "int(11)", `"7"`, `7`},
		{"text to bytes", "varchar(10)", "varbinary(10)", `"hi"`, `"aGk="`},
		{"bytes to text", "varbinary(10)", "varchar(10)", `"aGk="`, `"hi"`},
		{"set to text", "set('a','b')", "varchar(10)", `["a","b"]`, `"a,b"`},
		{"text to json", "text", "json", `"{\"a\": 1}"`, `{"a": 1}`},
		{"text not json", "text", "json", `"x"`, ""},
		{"json to text", "json", "text", `{"a": [1, null]}`, `"{\"a\":[1,null]}"`},
		{"json null doc to text", "json", "text", `null`, `"null"`},
		{"text to date", "varchar(10)", "date", `"2024-02-29"`, `"2024-02-29"`},
		{"float kept", "float", "double", `1.1`, `1.1`},
		{"int narrowed out of range", "int(11)", "tinyint(4)", `300`, ""},
		{"int to unsigned, negative", "int(11)", "int(10) unsigned", `-1`, ""},
		{"decimal rescaled out of range", "decimal(10,2)", "decimal(4,2)", `"123.45"`, ""},
		{"double narrowed out of range", "double", "float", `1e300`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, err := columnOf(col(tt.from))
			if err != nil {
				t.Fatal(err)
			}
			to, err := columnOf(col(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			got, err := convert(from, to, json.RawMessage(tt.in))
			if tt.want == "" {
				if err == nil {
					t.Errorf("convert(%s, %s → %s) = %s, want an error", tt.in, tt.from, tt.to, got)
				}
				return
			}
			if got == nil {
				got = json.RawMessage("null")
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("convert(%s, %s → %s) = %s, %v, want %s", tt.in, tt.from, tt.to, got, err, tt.want)
			}
		})
	}
}

func TestRescale(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  string
	}{
		{"5", 2, "5.00"},
		{"1.005", 2, "1.01"},
		{"1.004", 2, "1.00"},
		{"-1.005", 2, "-1.01"},
		{"-0.004", 2, "0.00"},
		{"9.999", 2, "10.00"},
		{"1.5", 0, "2"},
		{"007.10", 1, "7.1"},
	}
	for _, tt := range tests {
		if got := rescale(tt.in, tt.scale); got != tt.want {
			t.Errorf("rescale(%q, %d) = %q, want %q", tt.in, tt.scale, got, tt.want)
		}
	}
}

// TestPromoteWhileProjecting: a projection committing to the live model
// while Promote computes its diff makes Promote read what it wrote and try
// again; the live model ends as the shadow was.
func TestPromoteWhileProjecting(t *testing.T) {
	for _, tt := range []struct {
		name     string
		maxBatch int
	}{{"one batch", defaultMaxBatch}, {"redo", 3}} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv := startServer(t, tt.maxBatch)
			tg := open(t, srv.ClientURL(), "busy", tt.maxBatch)
			commit(t, tg, sink.Live, 1, []sink.Table{items}, func(tx sink.Tx) error {
				if err := tx.CreateTable(ctx, items); err != nil {
					return err
				}
				return insertItems(1, 5, "live")(tx)
			})
			commit(t, tg, sink.Shadow, 3, []sink.Table{items}, func(tx sink.Tx) error {
				if err := tx.CreateTable(ctx, items); err != nil {
					return err
				}
				return insertItems(1, 5, "shadow")(tx)
			})
			projection := open(t, srv.ClientURL(), "busy", tt.maxBatch)
			var attempts []int
			beforeCommit := func(attempt int) {
				attempts = append(attempts, attempt)
				if attempt > 2 {
					return
				}
				// Rows the shadow holds alike, differently and not at all.
				commit(t, projection, sink.Live, uint64(1+attempt), []sink.Table{items}, func(tx sink.Tx) error {
					keys := []sink.Row{{"id": json.RawMessage("2")}, {"id": json.RawMessage("3")}}
					if err := tx.Delete(ctx, items, keys); err != nil {
						return err
					}
					return tx.Upsert(ctx, items, []sink.Row{item(2, "shadow2"), item(90+attempt, "new")})
				})
			}
			if err := tg.promote(ctx, beforeCommit); err != nil {
				t.Fatalf("Promote: %v", err)
			}
			if !slices.Equal(attempts, []int{1, 2, 3}) {
				t.Errorf("Promote committed at attempts %v, want [1 2 3]", attempts)
			}
			wantRows(t, srv.ClientURL(), tg.Bucket(sink.Live), items.Name, itemRows(1, 5, "shadow"))
			wantCheckpointSeq(t, tg, sink.Live, 3)
		})
	}
}
