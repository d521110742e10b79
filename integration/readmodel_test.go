package integration

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"
	_ "modernc.org/sqlite"
)

// readModelSchema is the source tables of the read-model tests.
var readModelSchema = []string{
	"CREATE DATABASE shop",
	`CREATE TABLE shop.orders (id INT PRIMARY KEY, status VARCHAR(20) CHARACTER SET utf8mb4, total DECIMAL(10,2),
		note TEXT, at DATETIME(3), bin VARBINARY(16), n BIGINT UNSIGNED, f DOUBLE)`,
	"CREATE TABLE shop.customers (id BIGINT PRIMARY KEY, name VARCHAR(40), tier ENUM('std','gold'))",
}

// shopTables are the tables of readModelSchema, as a sink lists them.
var shopTables = []string{"shop.orders", "shop.customers"}

// How each table reads as text on the source and in the SQLite read model
// (the canonical form of docs/EVENTS.md, Read models).
var (
	sourceQueries = map[string]string{
		"orders":    "SELECT id, status, CAST(total AS CHAR), note, CAST(at AS CHAR), HEX(bin), CAST(n AS CHAR), CAST(f AS CHAR) FROM shop.orders ORDER BY id",
		"customers": "SELECT id, name, tier FROM shop.customers ORDER BY id",
	}
	sqliteQueries = map[string]string{
		"orders":    "SELECT id, status, total, note, at, CASE WHEN bin IS NULL THEN NULL ELSE hex(bin) END, n, f FROM orders ORDER BY id",
		"customers": "SELECT id, name, tier FROM customers ORDER BY id",
	}
)

// sourceContent reads the source tables as text.
func sourceContent(t testing.TB, conn *client.Conn) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	for name, q := range sourceQueries {
		out[name] = sourceRows(t, conn, q)
	}
	return out
}

// sourceRows runs q on the source and returns its rows with every value as
// text (NULL for NULL), as textRows reads a read model's.
func sourceRows(t testing.TB, conn *client.Conn, q string) [][]string {
	t.Helper()
	r, err := conn.Execute(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rows := [][]string{}
	for i := range r.RowNumber() {
		var row []string
		for j := range r.ColumnNumber() {
			v, _ := r.GetValue(i, j)
			if v == nil {
				row = append(row, "NULL")
				continue
			}
			s, _ := r.GetString(i, j)
			row = append(row, s)
		}
		rows = append(rows, row)
	}
	return rows
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	Query(string, ...any) (*sql.Rows, error)
}

// sqliteContent reads the SQLite read model's tables as text; nil if they
// are not there (yet).
func sqliteContent(t testing.TB, db querier) map[string][][]string {
	t.Helper()
	out, err := readModelContent(db, sqliteQueries)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readModelContent reads a SQL read model's tables, one query each, with
// every value as text; nil if they are not there (yet). It does not call
// t.Fatal, so that a goroutine other than the test's can call it.
func readModelContent(db querier, queries map[string]string) (map[string][][]string, error) {
	out := map[string][][]string{}
	for name, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			if missingTable(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		got, err := textRows(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		out[name] = got
	}
	return out, nil
}

// missingTable tells whether a query failed because a table is not there:
// SQLite's "no such table", PostgreSQL's undefined_table.
func missingTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01" || strings.Contains(err.Error(), "no such table")
}

// textRows reads and closes rows, every value as text (NULL for NULL).
func textRows(rows *sql.Rows) ([][]string, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := [][]string{}
	vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
	for i := range ptrs {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				row[i] = "NULL"
			case int64:
				row[i] = strconv.FormatInt(v, 10)
			case float64:
				row[i] = strconv.FormatFloat(v, 'g', -1, 64)
			case []byte:
				row[i] = string(v)
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// shopWorkload writes transactions of every kind: multi-row, updates that
// change keys, deletes, and (big) one larger than an atomic batch.
type shopWorkload struct {
	t    testing.TB
	conn *client.Conn
	rnd  *rand.Rand
	next int
}

func (w *shopWorkload) txn(stmts ...string) {
	w.t.Helper()
	for _, s := range append(append([]string{"BEGIN"}, stmts...), "COMMIT") {
		if _, err := w.conn.Execute(s); err != nil {
			w.t.Fatalf("%s: %v", s, err)
		}
	}
}

func (w *shopWorkload) step() {
	w.t.Helper()
	id := func() int { return 1 + w.rnd.IntN(max(1, w.next)) }
	switch w.rnd.IntN(6) {
	case 0, 1:
		var stmts []string
		for range 1 + w.rnd.IntN(4) {
			w.next++
			stmts = append(stmts, fmt.Sprintf("INSERT INTO shop.orders VALUES (%d, 'new', %d.%02d, REPEAT('n', %d), NOW(3), UNHEX('%02X00'), %d, %d.5)",
				w.next, w.rnd.IntN(1000), w.rnd.IntN(100), w.rnd.IntN(30), w.rnd.IntN(256), uint64(1<<63)+uint64(w.rnd.IntN(1000)), w.rnd.IntN(100)))
		}
		stmts = append(stmts, fmt.Sprintf("INSERT INTO shop.customers VALUES (%d, 'c%d', 'std') ON DUPLICATE KEY UPDATE tier = 'gold'", w.rnd.IntN(50), w.next))
		w.txn(stmts...)
	case 2:
		w.txn(fmt.Sprintf("UPDATE shop.orders SET status = 'paid', total = total + 1, note = NULL WHERE id = %d", id()),
			fmt.Sprintf("UPDATE shop.orders SET status = 'shipped' WHERE id = %d", id()))
	case 3:
		w.txn(fmt.Sprintf("DELETE FROM shop.orders WHERE id = %d", id()))
	case 4:
		// A key that moves: the old key must go, the new one appear.
		w.next++
		w.txn(fmt.Sprintf("UPDATE shop.orders SET id = %d WHERE id = %d", w.next+1_000_000, id()))
	case 5:
		w.txn(fmt.Sprintf("UPDATE shop.customers SET name = CONCAT(name, '+') WHERE id = %d", w.rnd.IntN(50)))
	}
}

// big writes one transaction of n rows.
func (w *shopWorkload) big(n int) {
	w.t.Helper()
	first := w.next + 1
	w.next += n
	w.txn(fmt.Sprintf("INSERT INTO shop.orders (id, status, total, n, f) SELECT seq, 'bulk', 0.01, seq, 0.25 FROM shop.seq_%d_to_%d", first, w.next),
		fmt.Sprintf("UPDATE shop.orders SET status = 'bulk2' WHERE id BETWEEN %d AND %d", first, first+n/2))
}

// settle writes a last row and waits until the read model holds it, and so
// everything before it; it returns the source's content.
func (w *shopWorkload) settle(reader *sql.DB, proj *proc) map[string][][]string {
	w.t.Helper()
	w.next++
	id := 1_000_000 + w.next
	w.txn(fmt.Sprintf("INSERT INTO shop.customers VALUES (%d, 'settle', 'gold')", id))
	waitApplied(w.t, reader, proj, fmt.Sprintf("SELECT count(*) FROM customers WHERE id = %d", id))
	return sourceContent(w.t, w.conn)
}

// waitApplied waits until the read model answers query, a count, with 1:
// it holds the source's last write and so, applying the stream in order,
// everything before it. It fails with project's log if project exits
// first.
func waitApplied(t testing.TB, reader *sql.DB, proj *proc, query string) {
	t.Helper()
	waitFor(t, 3*time.Minute, "the read model to apply the last write", func() bool {
		var n int
		return proj.exited() || reader.QueryRow(query).Scan(&n) == nil && n == 1
	})
	if proj.exited() {
		t.Fatalf("project exited %d:\n%s", proj.code, proj.stderr)
	}
}

// quietInstant returns an instant with the source's content then, the
// writes paused across a second boundary on each side of it (MariaDB's
// commit times are whole seconds).
func quietInstant(t testing.TB, conn *client.Conn) (time.Time, map[string][][]string) {
	t.Helper()
	nextSecond := func() { time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond))) }
	nextSecond()
	at, content := time.Now(), sourceContent(t, conn)
	nextSecond()
	return at, content
}

func openReader(t testing.TB, path string) *sql.DB {
	t.Helper()
	r, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// checkpointSeq reads the checkpoint sequence of the SQL read model of sink
// name (0 if it has none yet).
func checkpointSeq(r *sql.DB, name string) uint64 {
	var seq uint64
	if err := r.QueryRow(`SELECT seq FROM "_tributary_` + name + `_checkpoint"`).Scan(&seq); err != nil {
		return 0
	}
	return seq
}

// checkCaughtUp fails the test unless the read model's checkpoint is the
// stream's last sequence.
func checkCaughtUp(t testing.TB, r *sql.DB, name string, nc *nats.Conn, stream string) {
	t.Helper()
	if cp, last := checkpointSeq(r, name), streamLastSeq(t, nc, stream); cp != last {
		t.Fatalf("read model %s has its checkpoint at %d, the stream's last sequence is %d", name, cp, last)
	}
}

// TestReadModelSQLite: tributary project keeps a SQLite read model equal to
// the source through a workload with a transaction larger than an atomic
// batch and 20 SIGKILLs, applying every source transaction exactly once
// (the checkpoint history has no overlap and no gap); rebuild --as-of each
// of several instants reproduces the source as it was then; and a reader of
// the live model during a rebuild never sees it empty or partial.
func TestReadModelSQLite(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec(readModelSchema...)
	const stream = "TRIBUTARY_RM"
	dbPath := filepath.Join(t.TempDir(), "rm.db")
	cfg := writeConfig(t, ns.url(), stream, sinkConfig{Name: "rm", Kind: "sqlite", Path: dbPath, Tables: shopTables, Batch: 500})
	conn := db.root()
	w := &shopWorkload{t: t, conn: conn, rnd: rand.New(rand.NewPCG(1, 2))}
	src := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "rm", "--server-id", "5151", "--include", "shop.*")
	src.waitStreaming()
	nc := ns.connect()

	// Instants: the source as it was at each.
	type instant struct {
		at      time.Time
		content map[string][][]string
	}
	var instants []instant
	for round := range 3 {
		for range 60 {
			w.step()
		}
		if round == 1 {
			w.big(2500)
		}
		at, content := quietInstant(t, conn)
		instants = append(instants, instant{at, content})
	}

	// The projection, killed 20 times while the workload goes on.
	reader := openReader(t, dbPath)
	args := []string{"project", "--config", cfg}
	proj := startTributary(t, args...)
	waitFor(t, time.Minute, "the read model's checkpoint table", func() bool { return checkpointSeq(reader, "rm") > 0 || proj.exited() })
	if proj.exited() {
		t.Fatalf("project exited %d before its first checkpoint:\n%s", proj.code, proj.stderr)
	}
	// Every commit of the checkpoint is logged, in the same transaction.
	writer, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	for _, s := range []string{
		`CREATE TABLE commits (n INTEGER PRIMARY KEY AUTOINCREMENT, old INTEGER, new INTEGER)`,
		`CREATE TRIGGER log_commit AFTER UPDATE ON "_tributary_rm_checkpoint" BEGIN INSERT INTO commits (old, new) VALUES (OLD.seq, NEW.seq); END`,
	} {
		if _, err := writer.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for kill := range 20 {
		for range 5 + rnd.IntN(20) {
			w.step()
		}
		if kill == 10 {
			w.big(1500)
		}
		time.Sleep(time.Duration(rnd.IntN(400)) * time.Millisecond)
		if proj.exited() {
			t.Fatalf("project exited %d before kill %d:\n%s", proj.code, kill, proj.stderr)
		}
		proj.kill()
		proj = startTributary(t, args...)
	}
	want := w.settle(reader, proj)
	last := streamLastSeq(t, nc, stream)
	if got := sqliteContent(t, reader); !cmp.Equal(want, got) {
		t.Fatalf("read model after 20 kills differs from the source (-source +read model):\n%s", cmp.Diff(want, got))
	}
	rows, err := reader.Query("SELECT old, new FROM commits ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	var prev, commits uint64
	for rows.Next() {
		var old, next uint64
		if err := rows.Scan(&old, &next); err != nil {
			t.Fatal(err)
		}
		if commits > 0 && old != prev || next <= old {
			t.Fatalf("checkpoint history: commit %d moved %d→%d after one that ended at %d: a transaction applied twice or skipped", commits, old, next, prev)
		}
		prev = next
		commits++
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if cp := checkpointSeq(reader, "rm"); prev != cp || cp != last || commits < 20 {
		t.Fatalf("checkpoint history ends at %d after %d commits, checkpoint %d, want %d after 20 or more", prev, commits, cp, last)
	}
	t.Logf("%d events applied in %d commits across 20 kills", last, commits)

	// Zero downtime: a reader in a loop during a rebuild sees the whole
	// model every time. Each read is one read transaction, and notes which
	// b-tree holds the live orders table: it changes at the swap, and only
	// there, so the reader must have seen exactly two.
	stop := make(chan struct{})
	type readerResult struct {
		roots map[int64]int // whole reads, per b-tree of the live orders table
		err   error
	}
	done := make(chan readerResult, 1)
	go func() {
		roots := map[int64]int{}
		read := func() error {
			tx, err := reader.Begin()
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var root int64
			if err := tx.QueryRow("SELECT rootpage FROM sqlite_master WHERE name = 'orders'").Scan(&root); err != nil {
				return err
			}
			got, err := readModelContent(tx, sqliteQueries)
			if err != nil {
				return err
			}
			// reflect.DeepEqual, ten times faster than cmp.Equal here, for
			// more reads during the rebuild.
			if !reflect.DeepEqual(want, got) {
				return fmt.Errorf("a read during the rebuild differs (-want +got):\n%s", cmp.Diff(want, got))
			}
			roots[root]++
			return nil
		}
		for {
			select {
			case <-stop: // and a last read, of what the rebuild left
				done <- readerResult{roots, read()}
				return
			default:
			}
			if err := read(); err != nil {
				done <- readerResult{roots, err}
				return
			}
		}
	}()
	code, _, errOut := runTributary(t, 5*time.Minute, "rebuild", "--config", cfg, "--sink", "rm")
	close(stop)
	res := <-done
	if code != 0 {
		t.Fatalf("rebuild exited %d:\n%s", code, errOut)
	}
	if res.err != nil {
		t.Fatalf("reader during the rebuild: %v", res.err)
	}
	if len(res.roots) != 2 {
		t.Fatalf("the reader saw the live table in %d b-trees (%v), want 2: before and after the swap", len(res.roots), res.roots)
	}
	t.Logf("whole reads during the rebuild, per b-tree of the live table: %v", res.roots)
	if got := sqliteContent(t, reader); !cmp.Equal(want, got) {
		t.Fatalf("read model after rebuild differs (-source +read model):\n%s", cmp.Diff(want, got))
	}
	checkCaughtUp(t, reader, "rm", nc, stream)

	// The projection carries on after the swap.
	w.step()
	w.step()
	want = w.settle(reader, proj)
	if got := sqliteContent(t, reader); !cmp.Equal(want, got) {
		t.Fatalf("read model after the swap and more writes differs (-source +read model):\n%s", cmp.Diff(want, got))
	}
	checkCaughtUp(t, reader, "rm", nc, stream)
	if code := proj.stop(); code != 0 {
		t.Errorf("project exited %d after SIGTERM, want 0\n%s", code, proj.stderr)
	}

	// Point in time.
	for i, in := range instants {
		code, _, errOut := runTributary(t, 5*time.Minute, "rebuild", "--config", cfg, "--sink", "rm", "--as-of", in.at.UTC().Format(time.RFC3339Nano))
		if code != 0 {
			t.Fatalf("rebuild --as-of %s exited %d:\n%s", in.at, code, errOut)
		}
		if got := sqliteContent(t, reader); !cmp.Equal(in.content, got) {
			t.Errorf("rebuild --as-of instant %d (%s) differs from the source then (-then +read model):\n%s", i, in.at, cmp.Diff(in.content, got))
		}
	}
	if code := src.stop(); code != 0 {
		t.Errorf("start exited %d after SIGTERM, want 0\n%s", code, src.stderr)
	}
}
