package mysql_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-cdc/tributary/sink"
)

// TestAlterTable: each change leaves the table in the new shape, columns
// in source order, with the rows it held; applied again, as after a crash
// before the checkpoint, it changes nothing.
func TestAlterTable(t *testing.T) {
	var (
		id  = sink.Column{Name: "id", Type: "int(11)"}
		a   = sink.Column{Name: "a", Type: "int(11)", Nullable: true}
		b   = sink.Column{Name: "b", Type: "varchar(10)", Nullable: true, Charset: "utf8mb4"}
		c   = sink.Column{Name: "c", Type: "decimal(5,2)", Nullable: true}
		col = func(name, typ string, nullable bool, charset string) sink.Column {
			return sink.Column{Name: name, Type: typ, Nullable: nullable, Charset: charset}
		}
	)
	from := sink.Table{Name: sink.TableName{Database: "shop", Table: "t"}, Columns: []sink.Column{id, a, b, c}, Key: []string{"id"}}
	tests := []struct {
		name    string
		to      []sink.Column
		key     []string
		renamed map[string]string
		want    [][]string // the rows, columns in to's order
		// replay says whether applying the change twice is harmless; a
		// rename whose old name the new table uses again is not (see the
		// package doc).
		replay bool
	}{
		{"add first, between and last", []sink.Column{col("n1", "int(11)", false, ""), id, a, col("n2", "varchar(3)", true, "latin1"), b, c, col("n3", "date", true, "")}, nil, nil,
			[][]string{{"NULL", "1", "10", "NULL", "x", "1.50", "NULL"}, {"NULL", "2", "20", "NULL", "y", "NULL", "NULL"}}, true},
		{"drop", []sink.Column{id, b}, nil, nil, [][]string{{"1", "x"}, {"2", "y"}}, true},
		{"rename", []sink.Column{id, col("aa", "int(11)", true, ""), b, c}, nil, map[string]string{"aa": "a"},
			[][]string{{"1", "10", "x", "1.50"}, {"2", "20", "y", "NULL"}}, true},
		{"reorder", []sink.Column{c, id, b, a}, nil, nil, [][]string{{"1.50", "1", "x", "10"}, {"NULL", "2", "y", "20"}}, true},
		{"reverse, add and drop", []sink.Column{col("n", "int(11)", true, ""), c, col("bb", "varchar(10)", true, "utf8mb4"), col("n2", "json", true, "utf8mb4"), id}, nil, map[string]string{"bb": "b"},
			[][]string{{"NULL", "1.50", "x", "NULL", "1"}, {"NULL", "NULL", "y", "NULL", "2"}}, true},
		{"retype and move", []sink.Column{id, b, c, col("a", "bigint(20) unsigned", true, "")}, nil, nil,
			[][]string{{"1", "x", "1.50", "10"}, {"2", "y", "NULL", "20"}}, true},
		{"charset and nullability", []sink.Column{id, a, col("b", "varchar(10)", false, "latin1"), c}, nil, nil,
			[][]string{{"1", "10", "x", "1.50"}, {"2", "20", "y", "NULL"}}, true},
		{"rename and reuse the name", []sink.Column{id, col("a2", "int(11)", true, ""), col("a", "varchar(5)", true, "utf8mb4"), b, c}, nil, map[string]string{"a2": "a"},
			[][]string{{"1", "10", "NULL", "x", "1.50"}, {"2", "20", "NULL", "y", "NULL"}}, false},
		{"swap names", []sink.Column{id, col("b", "int(11)", true, ""), col("a", "varchar(10)", true, "utf8mb4"), c}, nil, map[string]string{"b": "a", "a": "b"},
			[][]string{{"1", "10", "x", "1.50"}, {"2", "20", "y", "NULL"}}, false},
		{"key of two columns", []sink.Column{id, col("a", "int(11)", false, ""), b, c}, []string{"a", "id"}, nil,
			[][]string{{"1", "10", "x", "1.50"}, {"2", "20", "y", "NULL"}}, true},
		{"key column dropped", []sink.Column{col("a", "int(11)", false, ""), b, c}, []string{"a"}, nil,
			[][]string{{"10", "x", "1.50"}, {"20", "y", "NULL"}}, true},
		{"key renamed", []sink.Column{col("ident", "int(11)", false, ""), a, b, c}, []string{"ident"}, map[string]string{"ident": "id"},
			[][]string{{"1", "10", "x", "1.50"}, {"2", "20", "y", "NULL"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := newDatabase(t)
			tg := open(t, dsn, "alter")
			r := reader(t, dsn)
			tx := begin(t, tg)
			if err := tx.CreateTable(ctx, from); err != nil {
				t.Fatal(err)
			}
			rows := []sink.Row{
				{"id": json.RawMessage("1"), "a": json.RawMessage("10"), "b": json.RawMessage(`"x"`), "c": json.RawMessage(`"1.50"`)},
				{"id": json.RawMessage("2"), "a": json.RawMessage("20"), "b": json.RawMessage(`"y"`), "c": nil},
			}
			if err := tx.Upsert(ctx, from, rows); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx, sink.Checkpoint{Seq: 1, Tables: []sink.Table{from}}); err != nil {
				t.Fatal(err)
			}
			to := sink.Table{Name: from.Name, Columns: tc.to, Key: tc.key}
			if to.Key == nil {
				to.Key = from.Key
			}
			times := 1
			if tc.replay {
				times = 2
			}
			for i := range times {
				tx := begin(t, tg)
				if err := tx.AlterTable(ctx, from, to, tc.renamed); err != nil {
					t.Fatalf("AlterTable (%d. time): %v", i+1, err)
				}
				if err := tx.Commit(ctx, sink.Checkpoint{Seq: 2, Tables: []sink.Table{to}}); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(wantShape(from, to, tc.renamed), shape(t, r, "t")); diff != "" {
					t.Errorf("columns and key after AlterTable (%d. time) (-want +got):\n%s", i+1, diff)
				}
				names := make([]string, len(to.Columns))
				for i, c := range to.Columns {
					names[i] = "`" + c.Name + "`"
				}
				got := queryStrings(t, r, "SELECT "+strings.Join(names, ", ")+" FROM t ORDER BY `"+to.Key[0]+"`")
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("rows after AlterTable (%d. time) (-want +got):\n%s", i+1, diff)
				}
			}
		})
	}
}

// wantShape is a table's columns ("name type [NOT NULL]") and key after
// AlterTable: to's, with added columns nullable and key columns not.
func wantShape(from, to sink.Table, renamed map[string]string) []string {
	var out []string
	for _, c := range to.Columns {
		old := c.Name
		if o, ok := renamed[c.Name]; ok {
			old = o
		}
		_, kept := from.Column(old)
		s := c.Name + " " + strings.Replace(c.Type, "json", "longtext", 1) // MariaDB's JSON
		if c.Charset != "" {
			s += " " + c.Charset
		}
		if (!kept || c.Nullable) && !slices.Contains(to.Key, c.Name) {
			s += " NULL"
		}
		out = append(out, s)
	}
	return append(out, "key "+strings.Join(to.Key, ","))
}

func shape(t *testing.T, r *sql.DB, table string) []string {
	t.Helper()
	var out []string
	for _, c := range queryStrings(t, r, `SELECT COLUMN_NAME, COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME, ''), IS_NULLABLE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, table) {
		s := c[0] + " " + c[1]
		if c[2] != "" {
			s += " " + c[2]
		}
		if c[3] == "YES" {
			s += " NULL"
		}
		out = append(out, s)
	}
	var key []string
	for _, c := range queryStrings(t, r, `SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
		AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, table) {
		key = append(key, c[0])
	}
	return append(out, "key "+strings.Join(key, ","))
}
