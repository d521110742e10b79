package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sinktest"
	"github.com/tributary-cdc/tributary/sink/sqlite"
)

func TestContract(t *testing.T) {
	readers := map[sink.Target]*sql.DB{}
	sinktest.Run(t, sinktest.Harness{
		Open: func(t *testing.T, name string) sink.Target {
			path := filepath.Join(t.TempDir(), name+".db")
			tg, err := sqlite.Open(context.Background(), path, name)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tg.Close() })
			reader, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reader.Close() })
			readers[tg] = reader
			return tg
		},
		Rows: func(t *testing.T, tg sink.Target, m sink.Model, table sink.TableName) ([][]string, bool) {
			return sinktest.SQLRows(t, readers[tg], tg, m, table)
		},
	})
}

// TestAlterTableRenames: a column renamed away leaves its name to a column
// added under it, which starts NULL, not with the renamed column's values.
func TestAlterTableRenames(t *testing.T) {
	id := sink.Column{Name: "id", Type: "int(11)"}
	from := sink.Table{Name: sink.TableName{Database: "shop", Table: "t"}, Key: []string{"id"}, Columns: []sink.Column{
		id, {Name: "a", Type: "int(11)", Nullable: true}, {Name: "b", Type: "int(11)", Nullable: true},
	}}
	tests := []struct {
		name    string
		to      []sink.Column
		renamed map[string]string
		want    [][]string
	}{
		{"rename and reuse the name", []sink.Column{id, {Name: "a2", Type: "int(11)", Nullable: true}, {Name: "a", Type: "int(11)", Nullable: true}, {Name: "b", Type: "int(11)", Nullable: true}},
			map[string]string{"a2": "a"}, [][]string{{"1", "10", "NULL", "20"}}},
		{"rename, reuse the name, retype", []sink.Column{id, {Name: "a2", Type: "int(11)", Nullable: true}, {Name: "a", Type: "varchar(5)", Nullable: true, Charset: "utf8mb4"}, {Name: "b", Type: "int(11)", Nullable: true}},
			map[string]string{"a2": "a"}, [][]string{{"1", "10", "NULL", "20"}}},
		{"swap names", []sink.Column{id, {Name: "b", Type: "int(11)", Nullable: true}, {Name: "a", Type: "int(11)", Nullable: true}},
			map[string]string{"a": "b", "b": "a"}, [][]string{{"1", "10", "20"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "alter.db")
			tg, err := sqlite.Open(ctx, path, "alter")
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			write := func(cp sink.Checkpoint, fn func(tx sink.Tx) error) {
				t.Helper()
				tx, err := tg.Begin(ctx, sink.Live)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if _, err := tx.Checkpoint(ctx); err != nil {
					t.Fatal(err)
				}
				if err := fn(tx); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(ctx, cp); err != nil {
					t.Fatal(err)
				}
			}
			write(sink.Checkpoint{Seq: 1, Tables: []sink.Table{from}}, func(tx sink.Tx) error {
				if err := tx.CreateTable(ctx, from); err != nil {
					return err
				}
				return tx.Upsert(ctx, from, []sink.Row{{"id": json.RawMessage("1"), "a": json.RawMessage("10"), "b": json.RawMessage("20")}})
			})
			to := sink.Table{Name: from.Name, Columns: tt.to, Key: from.Key}
			write(sink.Checkpoint{Seq: 2, Tables: []sink.Table{to}}, func(tx sink.Tx) error { return tx.AlterTable(ctx, from, to, tt.renamed) })
			if diff := cmp.Diff(tt.want, selectColumns(t, tg.DB(), to)); diff != "" {
				t.Errorf("rows after AlterTable, in the new column order (-want +got):\n%s", diff)
			}
		})
	}
}

// selectColumns reads a table's rows, its columns in tb's order, NULL as
// "NULL".
func selectColumns(t *testing.T, db *sql.DB, tb sink.Table) [][]string {
	t.Helper()
	var cols []string
	for _, c := range tb.Columns {
		cols = append(cols, sqlite.Dialect{}.Quote(c.Name))
	}
	rows, err := db.Query("SELECT " + strings.Join(cols, ", ") + " FROM " + sqlite.Dialect{}.Quote(tb.Name.Table) + " ORDER BY 1")
	if err != nil {
		t.Fatalf("read %s: %v", tb.Name, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := make([]string, len(vals))
		for i, v := range vals {
			r[i] = "NULL"
			if v.Valid {
				r[i] = v.String
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
