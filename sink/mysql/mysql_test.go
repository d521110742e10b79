package mysql_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/mysql"
	"github.com/tributary-cdc/tributary/sink/sinktest"
	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// serverAddr is the private MariaDB TestMain starts.
var serverAddr string

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

// runTests starts a MariaDB of the tests' own with the project's script,
// runs them, and stops it. A test run that cannot start it fails.
func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sink-mysql-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	script := filepath.Join("..", "..", "scripts", "mariadb-sandbox.sh")
	var stderr bytes.Buffer
	cmd := exec.Command(script, "start", filepath.Join(dir, "db"), "0", "77")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: start MariaDB with mariadb-sandbox.sh: %v\n%s", err, stderr.String())
		return 1
	}
	defer func() {
		if out, err := exec.Command(script, "stop", filepath.Join(dir, "db")).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "stop MariaDB: %v\n%s", err, out)
		}
	}()
	for _, line := range strings.Split(string(out), "\n") {
		if port, ok := strings.CutPrefix(line, "MARIADB_PORT="); ok {
			serverAddr = "127.0.0.1:" + port
		}
	}
	if serverAddr == "" {
		fmt.Fprintf(os.Stderr, "FAIL: mariadb-sandbox.sh start printed no port:\n%s", out)
		return 1
	}
	return m.Run()
}

var databases atomic.Int64

// newDatabase creates an empty database and returns its DSN.
func newDatabase(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("t%d", databases.Add(1))
	root := rootDB(t)
	if _, err := root.Exec("CREATE DATABASE " + name + " CHARACTER SET latin1"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return "root@tcp(" + serverAddr + ")/" + name
}

func rootDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", "root@tcp("+serverAddr+")/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// reader opens a connection of its own, as a reader of the read model
// would, with the server's default session.
func reader(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func open(t *testing.T, dsn, name string) *sqldb.Target {
	t.Helper()
	tg, err := mysql.Open(context.Background(), dsn, name)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func TestContract(t *testing.T) {
	dsns := map[string]string{}
	readers := map[sink.Target]*sql.DB{}
	sinktest.Run(t, sinktest.Harness{
		Open: func(t *testing.T, name string) sink.Target {
			key := t.Name() + "\x00" + name
			if dsns[key] == "" {
				dsns[key] = newDatabase(t)
			}
			tg := open(t, dsns[key], name)
			readers[tg] = reader(t, dsns[key])
			return tg
		},
		Rows: func(t *testing.T, tg sink.Target, m sink.Model, table sink.TableName) ([][]string, bool) {
			return sinktest.SQLRows(t, readers[tg], tg, m, table)
		},
	})
}

func TestOpenNeedsDatabase(t *testing.T) {
	_, err := mysql.Open(context.Background(), "root@tcp("+serverAddr+")/", "x")
	if err == nil {
		t.Fatal("Open(DSN without a database) = nil error, want one")
	}
}

var orders = sink.Table{
	Name: sink.TableName{Database: "shop", Table: "orders"},
	Columns: []sink.Column{
		{Name: "id", Type: "int(11)"},
		{Name: "status", Type: "varchar(20)", Nullable: true, Charset: "utf8mb4"},
	},
	Key: []string{"id"},
}

func orderRow(id int, status string) sink.Row {
	s, _ := json.Marshal(status)
	return sink.Row{"id": json.RawMessage(fmt.Sprint(id)), "status": s}
}

// begin starts a live transaction holding the checkpoint.
func begin(t *testing.T, tg sink.Target) sink.Tx {
	t.Helper()
	tx, err := tg.Begin(context.Background(), sink.Live)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if _, err := tx.Checkpoint(context.Background()); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	return tx
}

// queryStrings runs a query and returns each value as text: NULL as
// "NULL", FLOAT and DOUBLE (which come as floats through the binary
// protocol, that is when the query has arguments) as their shortest text.
func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := [][]string{}
	for _, vals := range scanRows(t, rows) {
		r := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				r[i] = "NULL"
			case []byte:
				r[i] = string(v)
			case float32:
				r[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
			case float64:
				r[i] = strconv.FormatFloat(v, 'g', -1, 64)
			default:
				r[i] = fmt.Sprint(v)
			}
		}
		out = append(out, r)
	}
	return out
}

// scanRows reads and closes rows, each value as the driver gives it.
func scanRows(t *testing.T, rows *sql.Rows) [][]any {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// liveRows reads a live table through r as the contract suite does (by
// its first column, NULL as "NULL"); it fails the test if there is none.
func liveRows(t *testing.T, r *sql.DB, tg sink.Target, table sink.TableName) [][]string {
	t.Helper()
	rows, ok := sinktest.SQLRows(t, r, tg, sink.Live, table)
	if !ok {
		t.Fatalf("no live table %s", table)
	}
	return rows
}

// TestDDLInTransaction: DDL commits what came before it at once, but the
// rows after it still commit, or roll back, with the checkpoint.
func TestDDLInTransaction(t *testing.T) {
	ctx := context.Background()
	dsn := newDatabase(t)
	tg := open(t, dsn, "ddl")
	r := reader(t, dsn)
	tx := begin(t, tg)
	if err := tx.CreateTable(ctx, orders); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if err := tx.Upsert(ctx, orders, []sink.Row{orderRow(1, "new")}); err != nil {
		t.Fatalf("Insert: %v", err)
	}
	if got, ok := sinktest.SQLRows(t, r, tg, sink.Live, orders.Name); !ok || len(got) != 0 {
		t.Errorf("before Commit a reader sees table %v, rows %v; want the table (its DDL committed) with no rows", ok, got)
	}
	if err := tx.Commit(ctx, sink.Checkpoint{Seq: 1, Tables: []sink.Table{orders}}); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	other := sink.Table{Name: sink.TableName{Database: "shop", Table: "other"}, Columns: orders.Columns, Key: orders.Key}
	tx = begin(t, tg)
	if err := tx.Upsert(ctx, orders, []sink.Row{orderRow(2, "before the DDL")}); err != nil {
		t.Fatalf("Insert: %v", err)
	}
	if err := tx.CreateTable(ctx, other); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if err := tx.Upsert(ctx, orders, []sink.Row{orderRow(3, "after the DDL")}); err != nil {
		t.Fatalf("Insert: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	want := [][]string{{"1", "new"}, {"2", "before the DDL"}} // the DDL committed row 2; row 3 rolled back
	if diff := cmp.Diff(want, liveRows(t, r, tg, orders.Name)); diff != "" {
		t.Errorf("rows after a rolled back transaction with DDL (-want +got):\n%s", diff)
	}
	cp, err := tg.Checkpoint(ctx, sink.Live)
	if err != nil || cp.Seq != 1 {
		t.Errorf("Checkpoint() = seq %d, %v; want 1", cp.Seq, err)
	}
}

// TestCheckpointMovedDuringDDL: a writer that moves the checkpoint while
// the transaction's DDL has let go of its lock makes the transaction stop
// with ErrMoved.
func TestCheckpointMovedDuringDDL(t *testing.T) {
	ctx := context.Background()
	dsn := newDatabase(t)
	tg := open(t, dsn, "moved")
	if err := begin(t, tg).Commit(ctx, sink.Checkpoint{Seq: 1}); err != nil {
		t.Fatal(err)
	}
	tx := begin(t, tg) // holds the checkpoint's row lock
	other := reader(t, dsn)
	moved := make(chan error, 1)
	go func() {
		_, err := other.Exec(`UPDATE _tributary_moved_checkpoint SET seq = 9, doc = '{"seq":9,"tables":[]}'`)
		moved <- err
	}()
	// The other writer waits for the lock; the DDL's commit hands it over.
	root := rootDB(t)
	deadline := time.Now().Add(10 * time.Second)
	for waiting := 0; waiting == 0; {
		if err := root.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE = 'Updating' AND INFO LIKE 'UPDATE _tributary_moved_checkpoint %'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-moved:
			t.Fatalf("the other writer did not wait for the checkpoint's lock: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the other writer did not wait for the checkpoint's lock in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	err := tx.CreateTable(ctx, orders)
	if !errors.Is(err, sink.ErrMoved) {
		t.Errorf("CreateTable after another writer moved the checkpoint = %v, want an error wrapping sink.ErrMoved", err)
	}
	if err := <-moved; err != nil {
		t.Fatalf("other writer: %v", err)
	}
}

// TestPromoteOverStrayTable: a live table the live checkpoint does not
// record (a crash after its CREATE) is replaced, not in the way.
func TestPromoteOverStrayTable(t *testing.T) {
	ctx := context.Background()
	dsn := newDatabase(t)
	tg := open(t, dsn, "stray")
	r := reader(t, dsn)
	if _, err := r.Exec("CREATE TABLE orders (id INT PRIMARY KEY, junk TEXT)"); err != nil {
		t.Fatal(err)
	}
	tx, err := tg.Begin(ctx, sink.Shadow)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.CreateTable(ctx, orders); err != nil {
		t.Fatal(err)
	}
	if err := tx.Upsert(ctx, orders, []sink.Row{orderRow(1, "rebuilt")}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx, sink.Checkpoint{Seq: 5, Tables: []sink.Table{orders}}); err != nil {
		t.Fatal(err)
	}
	if err := tg.Promote(ctx); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	if diff := cmp.Diff([][]string{{"1", "rebuilt"}}, liveRows(t, r, tg, orders.Name)); diff != "" {
		t.Errorf("live orders after Promote (-want +got):\n%s", diff)
	}
	want := [][]string{{"_tributary_stray_checkpoint"}, {"orders"}}
	if diff := cmp.Diff(want, queryStrings(t, r, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY BINARY TABLE_NAME")); diff != "" {
		t.Errorf("tables after Promote (-want +got):\n%s", diff)
	}
}

// TestKeys: keys are told apart as the events write them, whatever the
// source's collation would say.
func TestKeys(t *testing.T) {
	ctx := context.Background()
	dsn := newDatabase(t)
	tg := open(t, dsn, "keys")
	tb := sink.Table{
		Name: sink.TableName{Database: "shop", Table: "names"},
		Columns: []sink.Column{
			{Name: "k", Type: "varchar(10)", Charset: "utf8mb4"},
			{Name: "l", Type: "char(3)", Charset: "latin1"},
			{Name: "v", Type: "int(11)", Nullable: true},
		},
		Key: []string{"k", "l"},
	}
	row := func(k, l string, v int) sink.Row {
		kj, _ := json.Marshal(k)
		lj, _ := json.Marshal(l)
		return sink.Row{"k": kj, "l": lj, "v": json.RawMessage(fmt.Sprint(v))}
	}
	keys := []sink.Row{row("a", "é", 1), row("A", "é", 2), row("a ", "é", 3), row("ä", "é", 4), row("a", "É", 5), row("a", "e", 6)}
	tx := begin(t, tg)
	if err := tx.CreateTable(ctx, tb); err != nil {
		t.Fatal(err)
	}
	if err := tx.Upsert(ctx, tb, keys); err != nil {
		t.Fatalf("Insert(keys equal under a case- and accent-insensitive collation): %v", err)
	}
	if err := tx.Delete(ctx, tb, []sink.Row{{"k": json.RawMessage(`"a"`), "l": json.RawMessage(`"é"`)}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx, sink.Checkpoint{Seq: 1, Tables: []sink.Table{tb}}); err != nil {
		t.Fatal(err)
	}
	got := queryStrings(t, reader(t, dsn), "SELECT v FROM names ORDER BY v")
	if diff := cmp.Diff([][]string{{"2"}, {"3"}, {"4"}, {"5"}, {"6"}}, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("rows left after deleting key (a, é) (-want +got):\n%s", diff)
	}
}

// TestLargeCheckpoint: a checkpoint listing many tables is stored whole
// (a TEXT column would cut it at 64 KiB, and sql_mode would not say so).
func TestLargeCheckpoint(t *testing.T) {
	ctx := context.Background()
	tg := open(t, newDatabase(t), "large")
	cp := sink.Checkpoint{Seq: 7}
	for i := range 300 {
		tb := sink.Table{Name: sink.TableName{Database: "shop", Table: fmt.Sprintf("t%d_ü", i)}, Key: []string{"id"}}
		for j := range 10 {
			tb.Columns = append(tb.Columns, sink.Column{Name: fmt.Sprintf("column_%d", j), Type: "varchar(255)", Nullable: true, Charset: "utf8mb4"})
		}
		cp.Tables = append(cp.Tables, tb)
	}
	if doc, _ := json.Marshal(cp); len(doc) < 1<<17 {
		t.Fatalf("checkpoint of %d bytes, want more than 128 KiB", len(doc))
	}
	if err := begin(t, tg).Commit(ctx, cp); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	got, err := tg.Checkpoint(ctx, sink.Live)
	if err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	if diff := cmp.Diff(cp, got); diff != "" {
		t.Errorf("Checkpoint() (-want +got):\n%s", diff)
	}
}
