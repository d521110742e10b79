// Package sinktest is the contract every read-model target passes: rows
// written and removed by key, nothing visible before commit and nothing
// left by a rollback, the checkpoint stored in the same transaction as the
// rows, shadow models swapped in whole, table changes, and the Runner
// driving the target from a real JetStream stream (an in-process
// nats-server) through rebuilds, projection and redelivery.
//
// A target's own test calls Run with a Harness.
package sinktest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-cdc/tributary/sink"
)

// Harness is how the suite reaches one target.
type Harness struct {
	// Open returns a target holding nothing, for the sink named name.
	// Targets opened with the same t and name share their store (as two
	// processes would); the harness closes them when the test ends.
	Open func(t *testing.T, name string) sink.Target
	// Rows returns the rows of a model's table, ordered by key, each value
	// as text in the target's canonical form (NULL as "NULL"); false if the
	// model has no such table. It reads through its own connection, as
	// another reader of the read model would.
	Rows func(t *testing.T, target sink.Target, m sink.Model, table sink.TableName) ([][]string, bool)
}

// The suite's table: values whose text is the same in every target.
var orders = sink.Table{
	Name: sink.TableName{Database: "shop", Table: "orders"},
	Columns: []sink.Column{
		{Name: "id", Type: "int(11)"},
		{Name: "status", Type: "varchar(20)", Nullable: true, Charset: "utf8mb4"},
		{Name: "total", Type: "decimal(10,2)", Nullable: true},
	},
	Key: []string{"id"},
}

func row(id int, status string, total string) sink.Row {
	r := sink.Row{"id": json.RawMessage(jsonNumber(id)), "total": nil, "status": nil}
	if status != "" {
		r["status"], _ = json.Marshal(status)
	}
	if total != "" {
		r["total"], _ = json.Marshal(total)
	}
	return r
}

func key(id int) sink.Row { return sink.Row{"id": json.RawMessage(jsonNumber(id))} }

func jsonNumber(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Run runs the whole contract.
func Run(t *testing.T, h Harness) {
	t.Run("WriteAndDelete", func(t *testing.T) { testWriteAndDelete(t, h) })
	t.Run("Rollback", func(t *testing.T) { testRollback(t, h) })
	t.Run("CheckpointInTransaction", func(t *testing.T) { testCheckpointInTransaction(t, h) })
	t.Run("ValueError", func(t *testing.T) { testValueError(t, h) })
	t.Run("ShadowPromote", func(t *testing.T) { testShadowPromote(t, h) })
	t.Run("Discard", func(t *testing.T) { testDiscard(t, h) })
	t.Run("AlterTable", func(t *testing.T) { testAlterTable(t, h) })
	t.Run("TruncateAndDrop", func(t *testing.T) { testTruncateAndDrop(t, h) })
	t.Run("RenameTable", func(t *testing.T) { testRenameTable(t, h) })
	t.Run("Runner", func(t *testing.T) { testRunner(t, h) })
}

// apply runs fn in one transaction of model m and commits cp.
func apply(t *testing.T, tg sink.Target, m sink.Model, cp sink.Checkpoint, fn func(tx sink.Tx) error) {
	t.Helper()
	ctx := context.Background()
	tx, err := tg.Begin(ctx, m)
	if err != nil {
		t.Fatalf("Begin(%s): %v", m, err)
	}
	defer tx.Rollback()
	if _, err := tx.Checkpoint(ctx); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	if err := fn(tx); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if err := tx.Commit(ctx, cp); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func wantRows(t *testing.T, h Harness, tg sink.Target, m sink.Model, table sink.TableName, want [][]string) {
	t.Helper()
	got, ok := h.Rows(t, tg, m, table)
	if !ok {
		t.Fatalf("%s model has no table %s, want %d rows", m, table, len(want))
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s rows of %s (-want +got):\n%s", m, table, diff)
	}
}

func wantCheckpoint(t *testing.T, tg sink.Target, m sink.Model, want sink.Checkpoint) {
	t.Helper()
	got, err := tg.Checkpoint(context.Background(), m)
	if err != nil {
		t.Fatalf("Checkpoint(%s): %v", m, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Checkpoint(%s) (-want +got):\n%s", m, diff)
	}
}

func checkpoint(seq uint64, tables ...sink.Table) sink.Checkpoint {
	if tables == nil {
		tables = []sink.Table{}
	}
	return sink.Checkpoint{Seq: seq, TxID: "0-1-" + jsonNumber(int(seq)), Tables: tables}
}

func testWriteAndDelete(t *testing.T, h Harness) {
	ctx := context.Background()
	tg := h.Open(t, "orders")
	wantCheckpoint(t, tg, sink.Live, sink.Checkpoint{})
	apply(t, tg, sink.Live, checkpoint(3, orders), func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, orders); err != nil {
			return err
		}
		return tx.Upsert(ctx, orders, []sink.Row{row(1, "new", "9.90"), row(2, "paid", "100.00"), row(3, "", "")})
	})
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"1", "new", "9.90"}, {"2", "paid", "100.00"}, {"3", "NULL", "NULL"}})
	wantCheckpoint(t, tg, sink.Live, checkpoint(3, orders))

	apply(t, tg, sink.Live, checkpoint(5, orders), func(tx sink.Tx) error {
		if err := tx.Delete(ctx, orders, []sink.Row{key(1), key(2), key(99)}); err != nil {
			return err
		}
		return tx.Upsert(ctx, orders, []sink.Row{row(2, "shipped", "100.00")})
	})
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"2", "shipped", "100.00"}, {"3", "NULL", "NULL"}})
	wantCheckpoint(t, tg, sink.Live, checkpoint(5, orders))
}

func testRollback(t *testing.T, h Harness) {
	ctx := context.Background()
	tg := h.Open(t, "orders")
	apply(t, tg, sink.Live, checkpoint(1, orders), func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, orders); err != nil {
			return err
		}
		return tx.Upsert(ctx, orders, []sink.Row{row(1, "new", "1.00")})
	})
	tx, err := tg.Begin(ctx, sink.Live)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Delete(ctx, orders, []sink.Row{key(1)}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Upsert(ctx, orders, []sink.Row{row(2, "x", "2.00")}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"1", "new", "1.00"}})
	wantCheckpoint(t, tg, sink.Live, checkpoint(1, orders))
}

// testCheckpointInTransaction: a reader sees neither the rows nor the
// checkpoint of an open transaction, then both at once.
func testCheckpointInTransaction(t *testing.T, h Harness) {
	ctx := context.Background()
	tg := h.Open(t, "orders")
	apply(t, tg, sink.Live, checkpoint(1, orders), func(tx sink.Tx) error { return tx.CreateTable(ctx, orders) })
	tx, err := tg.Begin(ctx, sink.Live)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	cp, err := tx.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Seq != 1 {
		t.Fatalf("Tx.Checkpoint().Seq = %d, want 1", cp.Seq)
	}
	if err := tx.Upsert(ctx, orders, []sink.Row{row(7, "open", "7.00")}); err != nil {
		t.Fatal(err)
	}
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{})
	if err := tx.Commit(ctx, checkpoint(2, orders)); err != nil {
		t.Fatal(err)
	}
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"7", "open", "7.00"}})
	wantCheckpoint(t, tg, sink.Live, checkpoint(2, orders))
}

func testValueError(t *testing.T, h Harness) {
	ctx := context.Background()
	tg := h.Open(t, "orders")
	apply(t, tg, sink.Live, checkpoint(1, orders), func(tx sink.Tx) error { return tx.CreateTable(ctx, orders) })
	tx, err := tg.Begin(ctx, sink.Live)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	bad := row(1, "x", "1.00")
	bad["id"] = json.RawMessage(`"not a number"`)
	err = tx.Upsert(ctx, orders, []sink.Row{bad})
	if !errors.Is(err, sink.ErrValue) {
		t.Fatalf("Upsert(id \"not a number\") = %v, want an error wrapping sink.ErrValue", err)
	}
	_ = tx.Rollback()
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{})
	wantCheckpoint(t, tg, sink.Live, checkpoint(1, orders))
}

func testShadowPromote(t *testing.T, h Harness) {
	ctx := context.Background()
	tg := h.Open(t, "orders")
	gone := sink.Table{Name: sink.TableName{Database: "shop", Table: "gone"}, Columns: orders.Columns[:1], Key: []string{"id"}}
	apply(t, tg, sink.Live, checkpoint(4, orders, gone), func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, orders); err != nil {
			return err
		}
		if err := tx.CreateTable(ctx, gone); err != nil {
			return err
		}
		return tx.Upsert(ctx, orders, []sink.Row{row(1, "live", "1.00")})
	})
	shadowCP := checkpoint(9, orders)
	shadowCP.AsOf = "2026-11-25T10:00:00Z"
	apply(t, tg, sink.Shadow, shadowCP, func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, orders); err != nil {
			return err
		}
		return tx.Upsert(ctx, orders, []sink.Row{row(1, "rebuilt", "1.00"), row(2, "rebuilt", "2.00")})
	})
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"1", "live", "1.00"}})
	wantRows(t, h, tg, sink.Shadow, orders.Name, [][]string{{"1", "rebuilt", "1.00"}, {"2", "rebuilt", "2.00"}})
	wantCheckpoint(t, tg, sink.Live, checkpoint(4, orders, gone))
	if err := tg.Promote(ctx); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"1", "rebuilt", "1.00"}, {"2", "rebuilt", "2.00"}})
	wantCheckpoint(t, tg, sink.Live, shadowCP)
	wantCheckpoint(t, tg, sink.Shadow, sink.Checkpoint{})
	if _, ok := h.Rows(t, tg, sink.Live, gone.Name); ok {
		t.Errorf("after Promote the live model still has table %s, which the shadow model did not", gone.Name)
	}
	if _, ok := h.Rows(t, tg, sink.Shadow, orders.Name); ok {
		t.Errorf("after Promote the shadow model still has table %s", orders.Name)
	}
}

func testDiscard(t *testing.T, h Harness) {
	ctx := context.Background()
	tg := h.Open(t, "orders")
	apply(t, tg, sink.Live, checkpoint(1, orders), func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, orders); err != nil {
			return err
		}
		return tx.Upsert(ctx, orders, []sink.Row{row(1, "live", "1.00")})
	})
	apply(t, tg, sink.Shadow, checkpoint(2, orders), func(tx sink.Tx) error { return tx.CreateTable(ctx, orders) })
	if err := tg.Discard(ctx); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	wantCheckpoint(t, tg, sink.Shadow, sink.Checkpoint{})
	if _, ok := h.Rows(t, tg, sink.Shadow, orders.Name); ok {
		t.Errorf("after Discard the shadow model still has table %s", orders.Name)
	}
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"1", "live", "1.00"}})
	if err := tg.Discard(ctx); err != nil {
		t.Errorf("Discard with no shadow model: %v", err)
	}
}

func testAlterTable(t *testing.T, h Harness) {
	ctx := context.Background()
	tg := h.Open(t, "orders")
	apply(t, tg, sink.Live, checkpoint(1, orders), func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, orders); err != nil {
			return err
		}
		return tx.Upsert(ctx, orders, []sink.Row{row(1, "a", "1.00"), row(2, "b", "")})
	})
	steps := []struct {
		name    string
		to      []sink.Column
		key     []string
		renamed map[string]string
		want    [][]string
	}{
		{"add column", append(cloneCols(orders.Columns), sink.Column{Name: "note", Type: "varchar(10)", Nullable: true, Charset: "utf8mb4"}), []string{"id"}, nil,
			[][]string{{"1", "a", "1.00", "NULL"}, {"2", "b", "NULL", "NULL"}}},
		{"rename column", []sink.Column{orders.Columns[0], {Name: "state", Type: "varchar(20)", Nullable: true, Charset: "utf8mb4"}, orders.Columns[2], {Name: "note", Type: "varchar(10)", Nullable: true, Charset: "utf8mb4"}},
			[]string{"id"}, map[string]string{"state": "status"}, [][]string{{"1", "a", "1.00", "NULL"}, {"2", "b", "NULL", "NULL"}}},
		{"drop column", []sink.Column{orders.Columns[0], {Name: "state", Type: "varchar(20)", Nullable: true, Charset: "utf8mb4"}, orders.Columns[2]},
			[]string{"id"}, nil, [][]string{{"1", "a", "1.00"}, {"2", "b", "NULL"}}},
		{"change type", []sink.Column{{Name: "id", Type: "bigint(20)"}, {Name: "state", Type: "varchar(40)", Nullable: true, Charset: "utf8mb4"}, orders.Columns[2]},
			[]string{"id"}, nil, [][]string{{"1", "a", "1.00"}, {"2", "b", "NULL"}}},
	}
	from := orders
	for i, s := range steps {
		to := sink.Table{Name: orders.Name, Columns: s.to, Key: s.key}
		apply(t, tg, sink.Live, checkpoint(uint64(i+2), to), func(tx sink.Tx) error { return tx.AlterTable(ctx, from, to, s.renamed) })
		got, ok := h.Rows(t, tg, sink.Live, orders.Name)
		if !ok || !cmp.Equal(s.want, got, cmpopts.EquateEmpty()) {
			t.Errorf("after %s: rows %v, want %v", s.name, got, s.want)
		}
		from = to
	}
	// The new shape takes new rows.
	apply(t, tg, sink.Live, checkpoint(9, from), func(tx sink.Tx) error {
		return tx.Upsert(ctx, from, []sink.Row{{"id": json.RawMessage("9223372036854775807"), "state": json.RawMessage(`"big"`), "total": nil}})
	})
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{{"1", "a", "1.00"}, {"2", "b", "NULL"}, {"9223372036854775807", "big", "NULL"}})
}

func cloneCols(c []sink.Column) []sink.Column { return append([]sink.Column(nil), c...) }

func testTruncateAndDrop(t *testing.T, h Harness) {
	ctx := context.Background()
	tg := h.Open(t, "orders")
	apply(t, tg, sink.Live, checkpoint(1, orders), func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, orders); err != nil {
			return err
		}
		return tx.Upsert(ctx, orders, []sink.Row{row(1, "a", "1.00")})
	})
	apply(t, tg, sink.Live, checkpoint(2, orders), func(tx sink.Tx) error { return tx.Truncate(ctx, orders) })
	wantRows(t, h, tg, sink.Live, orders.Name, [][]string{})
	apply(t, tg, sink.Live, checkpoint(3), func(tx sink.Tx) error { return tx.DropTable(ctx, orders) })
	if _, ok := h.Rows(t, tg, sink.Live, orders.Name); ok {
		t.Errorf("table %s still there after DropTable", orders.Name)
	}
}

// testRenameTable: a renamed table keeps its rows, under its new name, in
// the live model and in a shadow one.
func testRenameTable(t *testing.T, h Harness) {
	ctx := context.Background()
	tg := h.Open(t, "orders")
	renamed := orders
	renamed.Name = sink.TableName{Database: "shop", Table: "orders_2024"}
	for _, m := range []sink.Model{sink.Live, sink.Shadow} {
		apply(t, tg, m, checkpoint(1, orders), func(tx sink.Tx) error {
			if err := tx.CreateTable(ctx, orders); err != nil {
				return err
			}
			return tx.Upsert(ctx, orders, []sink.Row{row(1, "a", "1.00"), row(2, "b", "")})
		})
		apply(t, tg, m, checkpoint(2, renamed), func(tx sink.Tx) error { return tx.RenameTable(ctx, orders, renamed.Name) })
		wantRows(t, h, tg, m, renamed.Name, [][]string{{"1", "a", "1.00"}, {"2", "b", "NULL"}})
		if _, ok := h.Rows(t, tg, m, orders.Name); ok {
			t.Errorf("%s model still has table %s after RenameTable", m, orders.Name)
		}
		apply(t, tg, m, checkpoint(3, renamed), func(tx sink.Tx) error {
			return tx.Upsert(ctx, renamed, []sink.Row{row(3, "c", "3.00")})
		})
		wantRows(t, h, tg, m, renamed.Name, [][]string{{"1", "a", "1.00"}, {"2", "b", "NULL"}, {"3", "c", "3.00"}})
	}
}
