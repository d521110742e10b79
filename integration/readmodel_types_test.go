package integration

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/nats-io/nats.go"
)

// TestReadModelTypeMatrix: every type of the type matrix, with its edge
// values, goes from MariaDB through start, the stream and project (and
// rebuild) into MariaDB read models in other databases of the same server,
// and each read model then equals the source, value for value, after the
// inserts, after the update that moves every row, and after the deletes.
// Half the tables are in the stream's baseline, half created while
// tributary streams (their DDL events define them). Each read-model column
// has the source's type, nullability and charset; its collation is its
// charset's binary NO PAD one, as sink/mysql documents (JSON keeps
// utf8mb4_bin and its json_valid check). A SQLite read model projected
// beside it equals the source in the form docs/EVENTS.md gives for SQLite
// (compareSQLiteTypeModel).
func TestReadModelTypeMatrix(t *testing.T) {
	db := startTypeMatrixDB(t)
	ns := startNATS(t)

	creates := map[bool][]string{} // by whether the baseline holds the table
	for i, q := range createTypeTables(typeMatrix) {
		creates[i%2 == 0] = append(creates[i%2 == 0], q)
	}
	db.exec(append([]string{"CREATE DATABASE types", "CREATE DATABASE rm", "CREATE DATABASE rb"}, creates[true]...)...)
	const stream = "TRIBUTARY_TYPES"
	src := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "types", "--server-id", "4545", "--include", "types.*")
	src.waitStreaming()
	db.exec(creates[false]...)

	litePath := filepath.Join(t.TempDir(), "lite.db")
	cfg := writeConfig(t, ns.url(), stream,
		sinkConfig{Name: "live", Kind: "mysql", DSN: fmt.Sprintf("root@tcp(127.0.0.1:%d)/rm", db.port)},
		sinkConfig{Name: "built", Kind: "mysql", DSN: fmt.Sprintf("root@tcp(127.0.0.1:%d)/rb", db.port)},
		sinkConfig{Name: "lite", Kind: "sqlite", Path: litePath})
	proj := startTributary(t, "project", "--config", cfg, "--sink", "live", "--sink", "lite")

	conn := db.root()
	reader := db.root()
	if _, err := reader.Execute("SET SESSION time_zone = '+00:00'"); err != nil {
		t.Fatal(err)
	}
	nc := ns.connect()
	var lite *sql.DB
	// caughtUp: the source wrote written more events; once the stream holds
	// them and the live read model has applied them all, it equals the
	// source, which holds left rows.
	events := len(creates[false])
	caughtUp := func(written, left int) {
		t.Helper()
		events += written
		waitForEvents(t, src, nc, stream, events)
		waitCaughtUp(t, proj, reader, nc, stream, "rm", "live")
		compareTypeModel(t, reader, "rm", "live", left)
		if lite == nil {
			lite = openReader(t, litePath)
		}
		last := streamLastSeq(t, nc, stream)
		waitFor(t, time.Minute, "the SQLite read model to catch up", func() bool { return checkpointSeq(lite, "lite") == last })
		compareSQLiteTypeModel(t, reader, lite, left)
	}
	everyTable := func(format string) { // format's %s: the table
		t.Helper()
		for _, tb := range typeMatrix {
			q := fmt.Sprintf(format, tb.name)
			if _, err := conn.Execute(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}

	rows := writeTypeRows(t, conn, typeMatrix)
	caughtUp(rows, rows)
	everyTable("UPDATE types.%s SET id = id + 1000")
	caughtUp(rows, rows)
	if code, _, errOut := runTributary(t, time.Minute, "rebuild", "--config", cfg, "--sink", "built"); code != 0 {
		t.Fatalf("rebuild exited %d:\n%s", code, errOut)
	}
	compareTypeModel(t, reader, "rb", "built", rows)
	everyTable("DELETE FROM types.%s")
	caughtUp(rows, 0)

	if code := proj.stop(); code != 0 {
		t.Errorf("project exited %d after SIGTERM, want 0\n%s", code, proj.stderr)
	}
	if code := src.stop(); code != 0 {
		t.Errorf("start exited %d after SIGTERM, want 0\n%s", code, src.stderr)
	}
}

// waitCaughtUp waits until the checkpoint of the MariaDB read model in
// database schema (sink name) is the stream's last sequence.
func waitCaughtUp(t *testing.T, p *proc, conn *client.Conn, nc *nats.Conn, stream, schema, name string) {
	t.Helper()
	last := streamLastSeq(t, nc, stream)
	if last == 0 {
		t.Fatalf("stream %s holds no events", stream)
	}
	q := fmt.Sprintf("SELECT seq FROM %s._tributary_%s_checkpoint WHERE id = 1", schema, name)
	var seq int64
	deadline := time.Now().Add(time.Minute)
	for {
		if r, err := conn.Execute(q); err == nil && r.RowNumber() == 1 {
			seq, _ = r.GetInt(0, 0)
			if uint64(seq) == last {
				return
			}
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("read model %s at sequence %d, the stream's last is %d (project exited: %v):\n%s", schema, seq, last, p.exited(), p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// columnDef is a column as information_schema describes it.
type columnDef struct {
	name, typ, dataType, nullable, charset, collation, key string
	json                                                   bool // a LONGTEXT with a json_valid check: MariaDB's JSON
}

func columnDefs(t *testing.T, conn *client.Conn, schema, table string) []columnDef {
	t.Helper()
	checks := map[string]bool{}
	for _, r := range rowsAsStrings(t, conn, fmt.Sprintf("SELECT CHECK_CLAUSE AS c FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = '%s' AND TABLE_NAME = '%s'", schema, table)) {
		checks[*r["c"]] = true
	}
	q := fmt.Sprintf(`SELECT COLUMN_NAME AS name, COLUMN_TYPE AS typ, DATA_TYPE AS data_type, IS_NULLABLE AS nullable,
			IFNULL(CHARACTER_SET_NAME, '') AS charset, IFNULL(COLLATION_NAME, '') AS collation, COLUMN_KEY AS ckey
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s' ORDER BY ORDINAL_POSITION`, schema, table)
	var out []columnDef
	for _, r := range rowsAsStrings(t, conn, q) {
		v := func(k string) string { return *r[k] }
		out = append(out, columnDef{name: v("name"), typ: v("typ"), dataType: v("data_type"), nullable: v("nullable"),
			charset: v("charset"), collation: v("collation"), key: v("ckey"), json: checks["json_valid(`"+v("name")+"`)"]})
	}
	return out
}

// compareTypeModel compares the read model of sink name, in database
// schema, with the source (database types, which holds rows rows in all):
// the tables it holds (every type-matrix table and the checkpoint, nothing
// a rebuild left), each column's definition, then every column of every
// row (invisible and generated ones too) with the same expression on both
// sides, exact: HEX for every string, binary and geometry value (its bytes
// in its own charset), CAST AS CHAR for numbers and temporal values
// (TIMESTAMP in a session at +00:00), CAST AS UNSIGNED for BIT; FLOAT and
// DOUBLE also with the server's own comparison of the two columns.
func compareTypeModel(t *testing.T, conn *client.Conn, schema, name string, rows int) {
	t.Helper()
	wantTables := []string{"_tributary_" + name + "_checkpoint"}
	for _, tb := range typeMatrix {
		wantTables = append(wantTables, tb.name)
	}
	slices.Sort(wantTables)
	var tables []string
	for _, r := range rowsAsStrings(t, conn, "SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"+schema+"'") {
		tables = append(tables, *r["n"])
	}
	slices.Sort(tables)
	if !slices.Equal(tables, wantTables) {
		t.Errorf("database %s holds the tables %v, want %v", schema, tables, wantTables)
	}
	have, values := 0, 0
	for _, tb := range typeMatrix {
		src, rm := columnDefs(t, conn, "types", tb.name), columnDefs(t, conn, schema, tb.name)
		if len(rm) == 0 {
			t.Errorf("%s.%s: no such table in the read model", schema, tb.name)
			continue
		}
		if got, want := columnNames(rm), columnNames(src); !slices.Equal(got, want) {
			t.Errorf("%s.%s: columns %v, the source's %v", schema, tb.name, got, want)
			continue
		}
		var exprs, floats []string
		for i, s := range src {
			// The events carry neither invisibility nor generation
			// expressions (information_schema's EXTRA): the read model's
			// columns are plain ones, holding the values the source
			// computed, and are not compared here.
			want := s
			if s.charset != "" && !s.json {
				want.collation = s.charset + "_nopad_bin" // the package doc: keys compare as the events write them
			}
			if got := rm[i]; got != want {
				t.Errorf("%s.%s column %s: %+v, want %+v (the source's: %+v)", schema, tb.name, s.name, got, want, s)
			}
			c := "`" + s.name + "`"
			switch s.dataType {
			case "tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "year",
				"date", "datetime", "timestamp", "time", "uuid", "inet4", "inet6":
				exprs = append(exprs, "CAST("+c+" AS CHAR)")
			case "float", "double":
				exprs = append(exprs, "CAST("+c+" AS CHAR)")
				floats = append(floats, s.name)
			case "bit":
				exprs = append(exprs, "CAST("+c+" AS UNSIGNED)")
			case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set",
				"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
				"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
				exprs = append(exprs, "HEX("+c+")")
			default:
				t.Fatalf("types.%s column %s: no comparison for type %s", tb.name, s.name, s.typ)
			}
			exprs[len(exprs)-1] += " AS " + c
		}
		q := "SELECT " + strings.Join(exprs, ", ") + " FROM %s.`" + tb.name + "` ORDER BY id"
		want, got := rowsAsStrings(t, conn, fmt.Sprintf(q, "types")), rowsAsStrings(t, conn, fmt.Sprintf(q, schema))
		have += len(want)
		if len(got) != len(want) {
			t.Errorf("%s.%s holds %d rows, the source %d", schema, tb.name, len(got), len(want))
			continue
		}
		for i := range want {
			for _, s := range src {
				values++
				w, g := want[i][s.name], got[i][s.name]
				if (w == nil) != (g == nil) || w != nil && *w != *g {
					t.Errorf("%s.%s row id %s column %s: read model %s, source %s", schema, tb.name, show(want[i]["id"]), s.name, show(g), show(w))
				}
			}
		}
		for _, f := range floats {
			c := "`" + f + "`"
			q := fmt.Sprintf("SELECT s.id, CAST(s.%s AS CHAR) AS s, CAST(r.%s AS CHAR) AS r FROM types.`%s` s JOIN %s.`%s` r ON r.id = s.id WHERE NOT s.%s <=> r.%s",
				c, c, tb.name, schema, tb.name, c, c)
			for _, r := range rowsAsStrings(t, conn, q) {
				t.Errorf("%s.%s row id %s column %s: read model %s, source %s: the server does not find them equal", schema, tb.name, show(r["id"]), f, show(r["r"]), show(r["s"]))
			}
		}
	}
	if have != rows {
		t.Fatalf("the source holds %d rows, want %d", have, rows)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%s: %d tables, %d rows, %d values equal to the source's", schema, len(typeMatrix), rows, values)
}

func columnNames(cs []columnDef) []string {
	var n []string
	for _, c := range cs {
		n = append(n, c.name)
	}
	return n
}

// show is a value of rowsAsStrings for a message, cut short.
func show(v *string) string {
	if v == nil {
		return "NULL"
	}
	if len(*v) > 80 {
		return fmt.Sprintf("%q… (%d bytes)", (*v)[:80], len(*v))
	}
	return fmt.Sprintf("%q", *v)
}
