package postgres_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/postgres"
	"github.com/tributary-cdc/tributary/sink/sinktest"
	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// sandboxDSN is the private PostgreSQL that TestMain starts with
// scripts/postgres-sandbox.sh; admin is a connection to it.
var (
	sandboxDSN string
	admin      *sql.DB
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

// runTests starts PostgreSQL, runs the tests and stops it. A PostgreSQL
// that does not start fails the package: nothing is skipped.
func runTests(m *testing.M) int {
	// Straight under the temporary directory, so that the unprivileged user
	// the server runs as (when the tests run as root) can reach it, and the
	// unix socket path stays short.
	dir, err := os.MkdirTemp("", "pgsink-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "temp dir: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	env, err := sandbox("start", dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "start PostgreSQL: %v\n", err)
		return 1
	}
	defer func() {
		if _, err := sandbox("stop", dir); err != nil {
			fmt.Fprintf(os.Stderr, "stop PostgreSQL: %v\n", err)
		}
	}()
	sandboxDSN = env["POSTGRES_DSN"]
	if sandboxDSN == "" {
		fmt.Fprintf(os.Stderr, "postgres-sandbox.sh start printed no POSTGRES_DSN: %v\n", env)
		return 1
	}
	admin, err = sql.Open("pgx", sandboxDSN)
	if err != nil {
		fmt.Fprintf(os.Stderr, "connect to PostgreSQL: %v\n", err)
		return 1
	}
	defer admin.Close()
	return m.Run()
}

// sandbox runs scripts/postgres-sandbox.sh and returns the KEY=VALUE lines
// it prints.
func sandbox(args ...string) (map[string]string, error) {
	cmd := exec.Command(filepath.Join("..", "..", "scripts", "postgres-sandbox.sh"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("postgres-sandbox.sh %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env, nil
}

// schemas holds the schema of each test (each run of it) and sink name.
var schemas = map[schemaKey]string{}

type schemaKey struct {
	t    *testing.T
	name string
}

// schemaDSN returns the DSN of a schema of its own for the targets t opens
// for the sink named name (the same for the same t and name, as the
// contract wants), created on first use.
func schemaDSN(t *testing.T, name string) string {
	t.Helper()
	key := schemaKey{t, name}
	s, ok := schemas[key]
	if !ok {
		s = fmt.Sprintf("t%d", len(schemas)+1)
		if _, err := admin.Exec("CREATE SCHEMA " + s); err != nil {
			t.Fatalf("create schema for %s: %v", t.Name(), err)
		}
		schemas[key] = s
	}
	return sandboxDSN + "&search_path=" + url.QueryEscape(s)
}

func open(t *testing.T, dsn, name string) *sqldb.Target {
	t.Helper()
	tg, err := postgres.Open(context.Background(), dsn, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

// reader is a connection of a reader's own. Its statements are not
// prepared: the tests change the types of the columns it reads.
func reader(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn+"&default_query_exec_mode=exec")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	readers := map[sink.Target]*sql.DB{}
	sinktest.Run(t, sinktest.Harness{
		Open: func(t *testing.T, name string) sink.Target {
			dsn := schemaDSN(t, name)
			tg := open(t, dsn, name)
			readers[tg] = reader(t, dsn)
			return tg
		},
		Rows: func(t *testing.T, tg sink.Target, m sink.Model, table sink.TableName) ([][]string, bool) {
			return sinktest.SQLRows(t, readers[tg], tg, m, table)
		},
	})
}

// texts reads a table's columns as PostgreSQL writes them (format's %s is
// the type's output: inet::text would add the netmask), NULL as "NULL",
// ordered by the first column.
func texts(t *testing.T, db *sql.DB, table string, cols ...string) [][]string {
	t.Helper()
	var sel []string
	for _, c := range cols {
		sel = append(sel, fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN 'NULL' ELSE format('%%s', %[1]s) END", postgres.Dialect{}.Quote(c)))
	}
	rows, err := db.Query("SELECT " + strings.Join(sel, ", ") + " FROM " + postgres.Dialect{}.Quote(table) + " ORDER BY 1")
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	out := [][]string{}
	for rows.Next() {
		r := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return out
}

// columnType is a column's type as PostgreSQL names it.
func columnType(t *testing.T, db *sql.DB, table, col string) string {
	t.Helper()
	var typ string
	err := db.QueryRow("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2",
		postgres.Dialect{}.Quote(table), col).Scan(&typ)
	if err != nil {
		t.Fatalf("type of %s.%s: %v", table, col, err)
	}
	return typ
}

// write runs fn in one transaction of model m and commits it with cp.
func write(ctx context.Context, tg sink.Target, m sink.Model, cp sink.Checkpoint, fn func(tx sink.Tx) error) error {
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
	return tx.Commit(ctx, cp)
}

func TestValues(t *testing.T) {
	const point = "AAAAAAEBAAAAAAAAAAAA8D8AAAAAAAAAQA==" // SRID 0, POINT(1 2)
	tests := []struct {
		name     string
		typ      string // the source column's COLUMN_TYPE
		charset  string
		value    string // the event's JSON; "" is SQL NULL
		wantType string // as PostgreSQL names it
		want     string // as PostgreSQL writes it; "NULL" for SQL NULL
		wantErr  bool   // a sink.ErrValue naming the value
	}{
		{"tinyint min", "tinyint(4)", "", "-128", "smallint", "-128", false},
		{"tinyint unsigned max", "tinyint(3) unsigned", "", "255", "smallint", "255", false},
		{"smallint unsigned max", "smallint(5) unsigned", "", "65535", "integer", "65535", false},
		{"mediumint min", "mediumint(9)", "", "-8388608", "integer", "-8388608", false},
		{"mediumint unsigned max", "mediumint(8) unsigned", "", "16777215", "integer", "16777215", false},
		{"int min", "int(11)", "", "-2147483648", "integer", "-2147483648", false},
		{"int unsigned max", "int(10) unsigned", "", "4294967295", "bigint", "4294967295", false},
		{"bigint min", "bigint(20)", "", "-9223372036854775808", "bigint", "-9223372036854775808", false},
		{"bigint max", "bigint(20)", "", "9223372036854775807", "bigint", "9223372036854775807", false},
		{"bigint unsigned max", "bigint(20) unsigned", "", "18446744073709551615", "numeric(20,0)", "18446744073709551615", false},
		{"bigint unsigned past max", "bigint(20) unsigned", "", "18446744073709551616", "", "", true},
		{"int not a number", "int(11)", "", `"1"`, "", "", true},
		{"tinyint past max", "tinyint(4)", "", "128", "", "", true},
		{"int unsigned negative", "int(10) unsigned", "", "-1", "", "", true},
		{"decimal small negative", "decimal(10,6)", "", `"-0.000100"`, "numeric(10,6)", "-0.000100", false},
		{"decimal max", "decimal(65,30)", "", `"99999999999999999999999999999999999.999999999999999999999999999999"`,
			"numeric(65,30)", "99999999999999999999999999999999999.999999999999999999999999999999", false},
		{"decimal default", "decimal(10,0) unsigned", "", `"4294967295"`, "numeric(10,0)", "4294967295", false},
		{"decimal more digits than scale", "decimal(7,3)", "", `"1.2345"`, "", "", true},
		{"decimal unsigned negative", "decimal(7,3) unsigned", "", `"-1.000"`, "", "", true},
		{"float smallest", "float", "", "1e-45", "real", "1e-45", false},
		{"float max", "float", "", "3.4028235e+38", "real", "3.4028235e+38", false},
		{"float", "float", "", "1.1", "real", "1.1", false},
		{"float past max", "float", "", "3.5e+38", "", "", true},
		{"double smallest", "double", "", "5e-324", "double precision", "5e-324", false},
		{"double max", "double", "", "-1.7976931348623157e+308", "double precision", "-1.7976931348623157e+308", false},
		{"bit(1)", "bit(1)", "", "1", "bigint", "1", false},
		{"bit(64) max", "bit(64)", "", "18446744073709551615", "numeric(20,0)", "18446744073709551615", false},
		{"bit(8) past max", "bit(8)", "", "256", "", "", true},
		{"year max", "year(4)", "", "2155", "smallint", "2155", false},
		{"year zero", "year(4)", "", "0", "smallint", "0", false},
		{"year past min", "year(4)", "", "1900", "", "", true},
		{"date leap day", "date", "", `"2024-02-29"`, "date", "2024-02-29", false},
		{"date min", "date", "", `"1000-01-01"`, "date", "1000-01-01", false},
		{"date max", "date", "", `"9999-12-31"`, "date", "9999-12-31", false},
		{"date zero", "date", "", `"0000-00-00"`, "date", "-infinity", false},
		{"date year zero", "date", "", `"0000-01-01"`, "date", "0001-01-01 BC", false},
		{"date zero month", "date", "", `"2024-00-15"`, "", "", true},
		{"date zero day", "date", "", `"2024-02-00"`, "", "", true},
		{"date invalid day", "date", "", `"2023-02-29"`, "", "", true},
		{"datetime(3)", "datetime(3)", "", `"2024-02-29 23:59:59.123"`, "timestamp(3) without time zone", "2024-02-29 23:59:59.123", false},
		{"datetime(6) max", "datetime(6)", "", `"9999-12-31 23:59:59.999999"`, "timestamp(6) without time zone", "9999-12-31 23:59:59.999999", false},
		{"datetime zero", "datetime(3)", "", `"0000-00-00 00:00:00.000"`, "timestamp(3) without time zone", "-infinity", false},
		{"datetime zero in date", "datetime", "", `"2024-00-00 10:00:00"`, "", "", true},
		{"datetime year zero", "datetime", "", `"0000-01-01 10:00:00"`, "timestamp(0) without time zone", "0001-01-01 10:00:00 BC", false},
		{"time min", "time(6)", "", `"-838:59:59.000000"`, "interval", "-838:59:59", false},
		{"time max", "time", "", `"838:59:59"`, "interval", "838:59:59", false},
		{"time negative under a second", "time(1)", "", `"-00:00:00.5"`, "interval", "-00:00:00.5", false},
		{"time not a time", "time", "", `"10:00"`, "", "", true},
		{"timestamp max", "timestamp(6)", "", `"2038-01-19T03:14:07.999999Z"`, "timestamp(6) with time zone", "2038-01-19 03:14:07.999999+00", false},
		{"timestamp min", "timestamp", "", `"1970-01-01T00:00:01Z"`, "timestamp(0) with time zone", "1970-01-01 00:00:01+00", false},
		{"timestamp zero", "timestamp", "", `"0000-00-00 00:00:00"`, "timestamp(0) with time zone", "-infinity", false},
		{"varchar 4-byte UTF-8", "varchar(20)", "utf8mb4", `"café 😀"`, "text", "café 😀", false},
		{"varchar empty", "varchar(20)", "utf8mb4", `""`, "text", "", false},
		{"varchar NUL", "varchar(20)", "utf8mb4", `"a\u0000b"`, "", "", true},
		{"longtext", "longtext", "latin1", `"€"`, "text", "€", false},
		{"char binary charset", "char(2)", "binary", `"AP8="`, "bytea", `\x00ff`, false},
		{"binary trailing zero bytes", "binary(4)", "", `"AQAAAA=="`, "bytea", `\x01000000`, false},
		{"blob empty", "blob", "", `""`, "bytea", `\x`, false},
		{"blob not base64", "blob", "", `"!!"`, "", "", true},
		{"enum", "enum('a','b''c')", "utf8mb4", `"b'c"`, "text", "b'c", false},
		{"enum invalid marker", "enum('a')", "utf8mb4", `""`, "text", "", false},
		{"set", "set('a','b','c')", "utf8mb4", `["a","c"]`, "text[]", "{a,c}", false},
		{"set empty", "set('a','b','c')", "utf8mb4", `[]`, "text[]", "{}", false},
		{"json document", "json", "", `{"k":[1,"x",null],"a":1.50}`, "jsonb", `{"a": 1.50, "k": [1, "x", null]}`, false},
		{"json null document", "json", "", `null`, "jsonb", "null", false},
		{"json SQL NULL", "json", "", "", "jsonb", "NULL", false},
		{"json U+0000", "json", "", `{"k":"\u0000"}`, "", "", true},
		{"json escaped backslash u0000", "json", "", `"\\u0000"`, "jsonb", `"\\u0000"`, false},
		{"geometry", "point", "", `"` + point + `"`, "bytea", `\x000000000101000000000000000000f03f0000000000000040`, false},
		{"uuid", "uuid", "", `"6ccd780c-baba-1026-9564-5b8c656024db"`, "uuid", "6ccd780c-baba-1026-9564-5b8c656024db", false},
		{"inet4", "inet4", "", `"192.168.1.10"`, "inet", "192.168.1.10", false},
		{"inet6 IPv4-mapped", "inet6", "", `"::ffff:192.0.2.1"`, "inet", "::ffff:192.0.2.1", false},
		{"inet6 IPv4-compatible", "inet6", "", `"::192.0.2.1"`, "inet", "::192.0.2.1", false},
		{"inet6", "inet6", "", `"2001:db8::1:0:0:1"`, "inet", "2001:db8::1:0:0:1", false},
		{"text SQL NULL", "text", "utf8mb4", "", "text", "NULL", false},
	}
	ctx := context.Background()
	dsn := schemaDSN(t, "values")
	tg := open(t, dsn, "values")
	db := reader(t, dsn)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := sink.Table{
				Name:    sink.TableName{Database: "shop", Table: fmt.Sprintf("v%d", i)},
				Columns: []sink.Column{{Name: "id", Type: "int(11)"}, {Name: "c", Type: tt.typ, Nullable: true, Charset: tt.charset}},
				Key:     []string{"id"},
			}
			row := sink.Row{"id": json.RawMessage("1"), "c": nil}
			if tt.value != "" {
				row["c"] = json.RawMessage(tt.value)
			}
			err := write(ctx, tg, sink.Live, sink.Checkpoint{Seq: uint64(i + 1), Tables: []sink.Table{table}}, func(tx sink.Tx) error {
				if err := tx.CreateTable(ctx, table); err != nil {
					return fmt.Errorf("CreateTable(%s): %w", tt.typ, err)
				}
				return tx.Upsert(ctx, table, []sink.Row{row})
			})
			if tt.wantErr {
				if !errors.Is(err, sink.ErrValue) || !strings.Contains(err.Error(), tt.value) {
					t.Fatalf("Insert(%s %s) = %v, want a sink.ErrValue naming the value", tt.typ, tt.value, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Insert(%s %s): %v", tt.typ, tt.value, err)
			}
			if got := columnType(t, db, table.Name.Table, "c"); got != tt.wantType {
				t.Errorf("type of %s = %s, want %s", tt.typ, got, tt.wantType)
			}
			got := texts(t, db, table.Name.Table, "c")
			if diff := cmp.Diff([][]string{{tt.want}}, got); diff != "" {
				t.Errorf("%s %s read back (-want +got):\n%s", tt.typ, tt.value, diff)
			}
		})
	}
}

func TestOpenInUTC(t *testing.T) {
	tg := open(t, schemaDSN(t, "utc")+"&timezone=Europe/Berlin", "utc")
	var tz string
	if err := tg.DB().QueryRow("SHOW TimeZone").Scan(&tz); err != nil {
		t.Fatal(err)
	}
	if tz != "UTC" {
		t.Errorf("session time zone with timezone=Europe/Berlin in the DSN = %s, want UTC", tz)
	}
}

// TestAlterTable changes what the contract's AlterTable leaves out: the
// key (of a promoted table, whose key constraint is named after the shadow
// table it was built in), nullability, and types whose values PostgreSQL
// does not cast the way MySQL converts them.
func TestAlterTable(t *testing.T) {
	ctx := context.Background()
	dsn := schemaDSN(t, "alter")
	tg := open(t, dsn, "alter")
	db := reader(t, dsn)
	name := sink.TableName{Database: "shop", Table: "items"}
	from := sink.Table{Name: name, Key: []string{"id"}, Columns: []sink.Column{
		{Name: "id", Type: "int(11)"},
		{Name: "code", Type: "varchar(10)", Charset: "utf8mb4"},
		{Name: "amount", Type: "decimal(10,2)", Nullable: true},
		{Name: "kind", Type: "enum('a','b')", Nullable: true, Charset: "utf8mb4"},
		{Name: "raw", Type: "varbinary(8)", Nullable: true},
		{Name: "flag", Type: "tinyint(1)", Nullable: true},
		{Name: "at", Type: "datetime", Nullable: true},
	}}
	rows := []sink.Row{
		{"id": json.RawMessage(`1`), "code": json.RawMessage(`"x"`), "amount": json.RawMessage(`"1.50"`), "kind": json.RawMessage(`""`),
			"raw": json.RawMessage(`"aGk="`), "flag": json.RawMessage(`1`), "at": json.RawMessage(`"2024-01-02 03:04:05"`)},
		{"id": json.RawMessage(`2`), "code": json.RawMessage(`"y"`), "amount": nil, "kind": json.RawMessage(`"b"`), "raw": nil, "flag": nil, "at": nil},
	}
	err := write(ctx, tg, sink.Shadow, sink.Checkpoint{Seq: 1, Tables: []sink.Table{from}}, func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, from); err != nil {
			return err
		}
		return tx.Upsert(ctx, from, rows)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Promote(ctx); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	var pkey string
	if err := db.QueryRow("SELECT conname FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'p'").Scan(&pkey); err != nil {
		t.Fatal(err)
	}
	if pkey == "items_pkey" {
		t.Fatalf("the promoted table's key constraint is %s, want it named after the shadow table", pkey)
	}

	cols := func(tb sink.Table) []string {
		var out []string
		for _, c := range tb.Columns {
			out = append(out, c.Name)
		}
		return out
	}
	steps := []struct {
		name    string
		to      sink.Table
		renamed map[string]string
		insert  sink.Row // a row the new shape takes and the old one did not
		want    [][]string
		wantKey string
	}{
		{
			name: "key, nullability and types",
			to: sink.Table{Name: name, Key: []string{"code"}, Columns: []sink.Column{
				{Name: "id", Type: "bigint(20)", Nullable: true},
				{Name: "code", Type: "varchar(10)", Charset: "utf8mb4"},
				{Name: "amount", Type: "decimal(12,3)", Nullable: true},
				{Name: "kind", Type: "set('a','b')", Nullable: true, Charset: "utf8mb4"},
				{Name: "raw", Type: "varchar(8)", Nullable: true, Charset: "utf8mb4"},
				{Name: "active", Type: "tinyint(1)", Nullable: true},
				{Name: "at", Type: "timestamp", Nullable: true},
				{Name: "note", Type: "json", Nullable: true},
			}},
			renamed: map[string]string{"active": "flag"},
			insert: sink.Row{"id": nil, "code": json.RawMessage(`"z"`), "amount": nil, "kind": json.RawMessage(`["a","b"]`),
				"raw": nil, "active": nil, "at": nil, "note": json.RawMessage(`{"n":1}`)},
			want: [][]string{
				{"1", "x", "1.500", "{}", "hi", "1", "2024-01-02 03:04:05+00", "NULL"},
				{"2", "y", "NULL", "{b}", "NULL", "NULL", "NULL", "NULL"},
				{"NULL", "z", "NULL", "{a,b}", "NULL", "NULL", "NULL", `{"n": 1}`},
			},
			wantKey: "PRIMARY KEY (code)",
		},
		{
			name: "no key, types back",
			to: sink.Table{Name: name, Key: []string{}, Columns: []sink.Column{
				{Name: "id", Type: "bigint(20)", Nullable: true},
				{Name: "code", Type: "varchar(10)", Charset: "utf8mb4"},
				{Name: "kind", Type: "varchar(10)", Nullable: true, Charset: "utf8mb4"},
				{Name: "raw", Type: "blob", Nullable: true},
				{Name: "at", Type: "datetime", Nullable: true},
				{Name: "note", Type: "text", Nullable: true, Charset: "utf8mb4"},
			}},
			insert: sink.Row{"id": json.RawMessage(`3`), "code": json.RawMessage(`"z"`), "kind": nil, "raw": nil, "at": nil, "note": nil},
			want: [][]string{
				{"1", "x", "", `\x6869`, "2024-01-02 03:04:05", "NULL"},
				{"2", "y", "b", "NULL", "NULL", "NULL"},
				{"3", "z", "NULL", "NULL", "NULL", "NULL"},
				{"NULL", "z", "a,b", "NULL", "NULL", `{"n": 1}`},
			},
		},
	}
	for i, s := range steps {
		err := write(ctx, tg, sink.Live, sink.Checkpoint{Seq: uint64(i + 2), Tables: []sink.Table{s.to}}, func(tx sink.Tx) error {
			if err := tx.AlterTable(ctx, from, s.to, s.renamed); err != nil {
				return err
			}
			return tx.Upsert(ctx, s.to, []sink.Row{s.insert})
		})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.want, texts(t, db, name.Table, cols(s.to)...)); diff != "" {
			t.Errorf("%s: rows (-want +got):\n%s", s.name, diff)
		}
		var key string
		err = db.QueryRow("SELECT coalesce(max(pg_get_constraintdef(oid)), '') FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'p'").Scan(&key)
		if err != nil {
			t.Fatal(err)
		}
		if key != s.wantKey {
			t.Errorf("%s: key %q, want %q", s.name, key, s.wantKey)
		}
		from = s.to
	}
}

// TestBulkUpsert: a write of many rows goes by COPY (sqldb.Bulk) and must
// hold exactly what row-by-row INSERTs hold, awkward text, bytes, SET
// labels and NULLs included, and replace the rows of keys that exist.
func TestBulkUpsert(t *testing.T) {
	ctx := context.Background()
	dsn := schemaDSN(t, "bulk")
	tg := open(t, dsn, "bulk")
	db := reader(t, dsn)
	cols := []sink.Column{
		{Name: "id", Type: "int(11)"},
		{Name: "t", Type: "text", Nullable: true, Charset: "utf8mb4"},
		{Name: "b", Type: "blob", Nullable: true},
		{Name: "s", Type: "set('a','b,c','d\"e','f\\\\g')", Nullable: true},
		{Name: "j", Type: "json", Nullable: true},
		{Name: "d", Type: "decimal(10,2)", Nullable: true},
		{Name: "ts", Type: "timestamp(6)", Nullable: true},
	}
	bulk := sink.Table{Name: sink.TableName{Database: "db", Table: "bulk"}, Columns: cols, Key: []string{"id"}}
	rows := sink.Table{Name: sink.TableName{Database: "db", Table: "rows"}, Columns: cols, Key: []string{"id"}}
	samples := []string{"plain", "tab\there", "new\nline", `back\slash`, `quote"s'`, `\N`, "", "é😀", "{\"a\":1}", `\x41`}
	gen := func(from, n int, suffix string) []sink.Row {
		var out []sink.Row
		for i := from; i < from+n; i++ {
			r := sink.Row{"id": json.RawMessage(fmt.Sprint(i)), "t": nil, "b": nil, "s": nil, "j": nil, "d": nil, "ts": nil}
			if i%7 != 0 {
				r["t"], _ = json.Marshal(samples[i%len(samples)] + suffix)
				r["b"], _ = json.Marshal([]byte{0, byte(i), '\\', '\t', '\n', 0xff})
				r["s"] = json.RawMessage([]string{`[]`, `["a"]`, `["b,c","d\"e"]`, `["f\\g"]`}[i%4])
				r["j"] = json.RawMessage([]string{`{"k":"v\\n"}`, `null`, `[1,"\\\\",{}]`}[i%3])
				r["d"], _ = json.Marshal(fmt.Sprintf("%d.%02d", i, i%100))
				r["ts"], _ = json.Marshal(fmt.Sprintf("2026-11-25T10:00:%02d.%06dZ", i%60, i))
			}
			out = append(out, r)
		}
		return out
	}
	apply := func(seq uint64, fn func(tx sink.Tx) error) {
		t.Helper()
		if err := write(ctx, tg, sink.Live, sink.Checkpoint{Seq: seq, Tables: []sink.Table{bulk, rows}}, fn); err != nil {
			t.Fatal(err)
		}
	}
	apply(1, func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, bulk); err != nil {
			return err
		}
		return tx.CreateTable(ctx, rows)
	})
	// 150 rows in one call (COPY), the same in calls of 50 (INSERT).
	apply(2, func(tx sink.Tx) error { return tx.Upsert(ctx, bulk, gen(0, 150, "")) })
	apply(3, func(tx sink.Tx) error {
		for i := 0; i < 150; i += 50 {
			if err := tx.Upsert(ctx, rows, gen(i, 50, "")); err != nil {
				return err
			}
		}
		return nil
	})
	// Then 120 rows of which 60 replace existing keys, both ways.
	apply(4, func(tx sink.Tx) error { return tx.Upsert(ctx, bulk, gen(90, 120, "+")) })
	apply(5, func(tx sink.Tx) error {
		for i := 90; i < 210; i += 40 {
			if err := tx.Upsert(ctx, rows, gen(i, 40, "+")); err != nil {
				return err
			}
		}
		return nil
	})
	names := []string{"id", "t", "b", "s", "j", "d", "ts"}
	got, want := texts(t, db, "bulk", names...), texts(t, db, "rows", names...)
	if len(want) != 210 {
		t.Fatalf("row-by-row table holds %d rows, want 210", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("bulk-written rows differ from row-by-row ones (-insert +copy):\n%s", diff)
	}
	text := map[string]string{}
	for _, r := range got {
		text[r[0]] = r[1]
	}
	for id, want := range map[string]string{"1": "tab\there", "3": `back\slash`, "95": `\N+`, "105": "NULL"} {
		if text[id] != want {
			t.Errorf("row %s: t = %q, want %q", id, text[id], want)
		}
	}
}

// TestAlterTableRenames: a column renamed away leaves its name to a column
// added under it, which starts NULL, not with the renamed column's values;
// two columns can swap names, in place or with a retype.
func TestAlterTableRenames(t *testing.T) {
	id := sink.Column{Name: "id", Type: "int(11)"}
	col := func(name, typ string) sink.Column { return sink.Column{Name: name, Type: typ, Nullable: true} }
	from := sink.Table{Name: sink.TableName{Database: "shop", Table: "r"}, Key: []string{"id"}, Columns: []sink.Column{id, col("a", "int(11)"), col("b", "int(11)")}}
	tests := []struct {
		name    string
		to      []sink.Column
		renamed map[string]string
		want    [][]string
	}{
		{"rename and reuse the name", []sink.Column{id, col("a2", "int(11)"), col("a", "int(11)"), col("b", "int(11)")},
			map[string]string{"a2": "a"}, [][]string{{"1", "10", "NULL", "20"}}},
		{"rename, reuse the name, retype", []sink.Column{id, col("a2", "int(11)"), col("a", "bigint(20)"), col("b", "int(11)")},
			map[string]string{"a2": "a"}, [][]string{{"1", "10", "NULL", "20"}}},
		{"swap names", []sink.Column{id, col("b", "int(11)"), col("a", "int(11)")},
			map[string]string{"a": "b", "b": "a"}, [][]string{{"1", "10", "20"}}},
		{"swap names and retype", []sink.Column{id, col("b", "bigint(20)"), col("a", "int(11)")},
			map[string]string{"a": "b", "b": "a"}, [][]string{{"1", "10", "20"}}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := schemaDSN(t, "renames")
			tg := open(t, dsn, "renames")
			err := write(ctx, tg, sink.Live, sink.Checkpoint{Seq: 1, Tables: []sink.Table{from}}, func(tx sink.Tx) error {
				if err := tx.CreateTable(ctx, from); err != nil {
					return err
				}
				return tx.Upsert(ctx, from, []sink.Row{{"id": json.RawMessage("1"), "a": json.RawMessage("10"), "b": json.RawMessage("20")}})
			})
			if err != nil {
				t.Fatal(err)
			}
			to := sink.Table{Name: from.Name, Columns: tt.to, Key: from.Key}
			err = write(ctx, tg, sink.Live, sink.Checkpoint{Seq: 2, Tables: []sink.Table{to}}, func(tx sink.Tx) error {
				return tx.AlterTable(ctx, from, to, tt.renamed)
			})
			if err != nil {
				t.Fatalf("AlterTable: %v", err)
			}
			var cols []string
			for _, c := range to.Columns {
				cols = append(cols, c.Name)
			}
			if diff := cmp.Diff(tt.want, texts(t, reader(t, dsn), "r", cols...)); diff != "" {
				t.Errorf("rows after AlterTable (-want +got):\n%s", diff)
			}
		})
	}
}
