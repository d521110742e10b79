package sqldb_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqldb"
	"github.com/tributary-cdc/tributary/sink/sqlite"
)

var items = sink.Table{
	Name:    sink.TableName{Database: "shop", Table: "items"},
	Columns: []sink.Column{{Name: "id", Type: "int(11)"}, {Name: "v", Type: "int(11)", Nullable: true}},
	Key:     []string{"id"},
}

func itemRows(from, n int) []sink.Row {
	var out []sink.Row
	for i := from; i < from+n; i++ {
		out = append(out, sink.Row{"id": json.RawMessage(fmt.Sprint(i)), "v": json.RawMessage(fmt.Sprint(i * 10))})
	}
	return out
}

// openSQLite opens a SQLite target at path with dialect d (SQLite's own, or
// one built on it).
func openSQLite(t *testing.T, path string, d sqldb.Dialect) *sqldb.Target {
	t.Helper()
	tg, err := sqlite.Open(context.Background(), path, "s")
	if err != nil {
		t.Fatal(err)
	}
	tg = sqldb.New(tg.DB(), d, "s")
	t.Cleanup(func() { tg.Close() })
	return tg
}

// write runs fn in one transaction of model m and commits it at seq.
func write(ctx context.Context, tg sink.Target, m sink.Model, seq uint64, fn func(tx sink.Tx) error) error {
	tx, err := tg.Begin(ctx, m)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Checkpoint(ctx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx, sink.Checkpoint{Seq: seq, Tables: []sink.Table{items}})
}

// bulkDialect is SQLite's dialect with a Bulk write that counts its calls
// and writes through the connection it is given.
type bulkDialect struct {
	sqlite.Dialect
	calls *[]int // rows per call
}

func (d bulkDialect) BulkUpsert(ctx context.Context, conn *sql.Conn, table string, tb sink.Table, rows [][]any) error {
	*d.calls = append(*d.calls, len(rows))
	for _, r := range rows {
		q := "INSERT INTO " + d.Quote(table) + " VALUES (?, ?)" + d.Upsert(tb.Key, []string{"v"})
		if _, err := conn.ExecContext(ctx, q, r...); err != nil {
			return err
		}
	}
	return nil
}

// TestBulk: a Bulk dialect gets the writes of 100 rows or more, inside the
// transaction (a rollback undoes them), and not the smaller ones.
func TestBulk(t *testing.T) {
	ctx := context.Background()
	var calls []int
	tg := openSQLite(t, filepath.Join(t.TempDir(), "bulk.db"), bulkDialect{calls: &calls})
	err := write(ctx, tg, sink.Live, 1, func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, items); err != nil {
			return err
		}
		if err := tx.Upsert(ctx, items, itemRows(0, 99)); err != nil {
			return err
		}
		return tx.Upsert(ctx, items, itemRows(50, 150))
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != 150 {
		t.Errorf("BulkUpsert calls for writes of 99 and 150 rows: %v, want [150]", calls)
	}
	rolledBack := errors.New("roll back")
	err = write(ctx, tg, sink.Live, 2, func(tx sink.Tx) error {
		if err := tx.Upsert(ctx, items, itemRows(1000, 100)); err != nil {
			return err
		}
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatal(err)
	}
	var n, sum int
	if err := tg.DB().QueryRow("SELECT COUNT(*), SUM(v) FROM items").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if want := 200; n != want || sum != 10*(199*200/2) {
		t.Errorf("items holds %d rows summing to %d, want %d rows (0 to 199) summing to %d", n, sum, want, 10*(199*200/2))
	}
}

// TestCheckpointTable: Begin makes a model's checkpoint table again after
// Promote and Discard removed it, and a transaction whose checkpoint table
// another process removed stops with sink.ErrMoved, the next one going on.
func TestCheckpointTable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.db")
	tg := openSQLite(t, path, sqlite.Dialect{})
	other := openSQLite(t, path, sqlite.Dialect{}) // another process
	create := func(tx sink.Tx) error { return tx.CreateTable(ctx, items) }
	none := func(tx sink.Tx) error { return nil }

	if err := write(ctx, tg, sink.Shadow, 1, create); err != nil {
		t.Fatal(err)
	}
	if err := tg.Promote(ctx); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	if err := write(ctx, tg, sink.Shadow, 1, create); err != nil {
		t.Fatalf("write to the shadow model after Promote: %v", err)
	}
	if err := tg.Discard(ctx); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	if err := write(ctx, tg, sink.Shadow, 1, create); err != nil {
		t.Fatalf("write to the shadow model after Discard: %v", err)
	}
	if err := other.Discard(ctx); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	if err := write(ctx, tg, sink.Shadow, 2, none); !errors.Is(err, sink.ErrMoved) {
		t.Errorf("write to a shadow model another process discarded = %v, want sink.ErrMoved", err)
	}
	if err := write(ctx, tg, sink.Shadow, 1, create); err != nil {
		t.Fatalf("write to the shadow model after another process's Discard: %v", err)
	}
	cp, err := tg.Checkpoint(ctx, sink.Shadow)
	if err != nil || cp.Seq != 1 {
		t.Errorf("Checkpoint(shadow) = seq %d, %v; want 1", cp.Seq, err)
	}
	cp, err = other.Checkpoint(ctx, sink.Live)
	if err != nil || cp.Seq != 1 {
		t.Errorf("Checkpoint(live) = seq %d, %v; want 1", cp.Seq, err)
	}
}
