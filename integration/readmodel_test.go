package integration

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	_ "modernc.org/sqlite"
)

// readModelSchema is the source tables of the read-model tests, and how
// each reads as text on the source and in the SQLite read model (the
// canonical form of docs/EVENTS.md, Read models).
var readModelSchema = []string{
	"CREATE DATABASE shop",
	`CREATE TABLE shop.orders (id INT PRIMARY KEY, status VARCHAR(20) CHARACTER SET utf8mb4, total DECIMAL(10,2),
		note TEXT, at DATETIME(3), bin VARBINARY(16), n BIGINT UNSIGNED, f DOUBLE)`,
	"CREATE TABLE shop.customers (id BIGINT PRIMARY KEY, name VARCHAR(40), tier ENUM('std','gold'))",
}

var readModelQueries = map[string][2]string{
	"orders": {"SELECT id, status, CAST(total AS CHAR), note, CAST(at AS CHAR), HEX(bin), CAST(n AS CHAR), CAST(f AS CHAR) FROM shop.orders ORDER BY id",
		"SELECT id, status, total, note, at, CASE WHEN bin IS NULL THEN NULL ELSE hex(bin) END, n, f FROM orders ORDER BY id"},
	"customers": {"SELECT id, name, tier FROM shop.customers ORDER BY id", "SELECT id, name, tier FROM customers ORDER BY id"},
}

// sourceContent reads the source tables as text.
func sourceContent(t testing.TB, conn *client.Conn) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	for name, q := range readModelQueries {
		r, err := conn.Execute(q[0])
		if err != nil {
			t.Fatalf("%s: %v", q[0], err)
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
		out[name] = rows
	}
	return out
}

// sqliteContent reads the read model's tables as text; nil if they are not
// there (yet).
func sqliteContent(t testing.TB, db interface {
	Query(string, ...any) (*sql.Rows, error)
}) map[string][][]string {
	t.Helper()
	out, err := readSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readSQLite is sqliteContent for a goroutine other than the test's, which
// must not call t.Fatal.
func readSQLite(db interface {
	Query(string, ...any) (*sql.Rows, error)
}) (map[string][][]string, error) {
	out := map[string][][]string{}
	for name, q := range readModelQueries {
		rows, err := db.Query(q[1])
		if err != nil {
			if strings.Contains(err.Error(), "no such table") {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: %w", q[1], err)
		}
		got := [][]string{}
		for rows.Next() {
			vals := make([]any, 8)
			ptrs := make([]any, 8)
			for i := range ptrs {
				ptrs[i] = &vals[i]
			}
			cols, _ := rows.Columns()
			if err := rows.Scan(ptrs[:len(cols)]...); err != nil {
				rows.Close()
				return nil, err
			}
			var row []string
			for _, v := range vals[:len(cols)] {
				switch v := v.(type) {
				case nil:
					row = append(row, "NULL")
				case int64:
					row = append(row, strconv.FormatInt(v, 10))
				case float64:
					row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
				case []byte:
					row = append(row, string(v))
				default:
					row = append(row, fmt.Sprint(v))
				}
			}
			got = append(got, row)
		}
		rows.Close()
		out[name] = got
	}
	return out, nil
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

// settle writes a last row and waits until the read model holds it, and
// so everything before it; it returns the source's content and the
// stream's last sequence.
func (w *shopWorkload) settle(reader *sql.DB, nc *nats.Conn, proj *proc) (map[string][][]string, uint64) {
	w.t.Helper()
	w.next++
	w.txn(fmt.Sprintf("INSERT INTO shop.customers VALUES (%d, 'settle', 'gold')", 1_000_000+w.next))
	want := sourceContent(w.t, w.conn)
	waitFor(w.t, 2*time.Minute, "the read model to apply every event", func() bool {
		got := sqliteContent(w.t, reader)
		return proj.exited() || got != nil && len(got["customers"]) == len(want["customers"]) && cmp.Equal(got["customers"][len(got["customers"])-1], want["customers"][len(want["customers"])-1])
	})
	if proj.exited() {
		w.t.Fatalf("project exited %d:\n%s", proj.code, proj.stderr)
	}
	return want, streamMsgs(w.t, nc, "TRIBUTARY_RM")
}

// readModelSetup starts the source, NATS and tributary, and writes the
// config file of a SQLite sink.
func readModelSetup(t *testing.T, name string) (db *mariaDB, ns *natsServer, cfg, dbPath string) {
	t.Helper()
	db = startMariaDB(t)
	ns = startNATS(t)
	db.exec(readModelSchema...)
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "rm.db")
	cfg = filepath.Join(dir, "tributary.yaml")
	yaml := fmt.Sprintf("nats: %s\nstream: TRIBUTARY_%s\nsinks:\n  - name: rm\n    kind: sqlite\n    path: %s\n    tables: [shop.orders, shop.customers]\n    batch: 500\n",
		ns.url(), strings.ToUpper(name), dbPath)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return db, ns, cfg, dbPath
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

// checkpointSeq reads the read model's checkpoint sequence (0 if none).
func checkpointSeq(t testing.TB, r *sql.DB) uint64 {
	var seq uint64
	if err := r.QueryRow(`SELECT seq FROM "_tributary_rm_checkpoint"`).Scan(&seq); err != nil {
		return 0
	}
	return seq
}

// TestReadModelSQLite: tributary project keeps a SQLite read model equal to
// the source through a workload with a transaction larger than an atomic
// batch and 20 SIGKILLs, applying every source transaction exactly once
// (the checkpoint history has no overlap and no gap); rebuild --as-of each
// of several instants reproduces the source as it was then; and a reader of
// the live model during a rebuild never sees it empty or partial.
func TestReadModelSQLite(t *testing.T) {
	db, ns, cfg, dbPath := readModelSetup(t, "rm")
	conn := db.root()
	w := &shopWorkload{t: t, conn: conn, rnd: rand.New(rand.NewPCG(1, 2))}
	src := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "rm", "--server-id", "5151", "--include", "shop.*")
	src.waitStreaming()
	nc := ns.connect()

	// Instants: the source as it was at each, with writes paused across a
	// second boundary (MariaDB's commit times are whole seconds).
	type instant struct {
		at      time.Time
		content map[string][][]string
	}
	var instants []instant
	pause := func() {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 100*time.Millisecond)))
		instants = append(instants, instant{time.Now(), sourceContent(t, conn)})
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 100*time.Millisecond)))
	}
	for round := range 3 {
		for range 60 {
			w.step()
		}
		if round == 1 {
			w.big(2500)
		}
		pause()
	}

	// The projection, killed 20 times while the workload goes on.
	reader := openReader(t, dbPath)
	args := []string{"project", "--config", cfg}
	proj := startTributary(t, args...)
	waitFor(t, time.Minute, "the read model's checkpoint table", func() bool { return checkpointSeq(t, reader) > 0 || proj.exited() })
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
		_ = proj.cmd.Process.Signal(syscall.SIGKILL)
		proj.kill()
		proj = startTributary(t, args...)
	}
	want, last := w.settle(reader, nc, proj)
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
	rows.Close()
	if got := checkpointSeq(t, reader); prev != got || got != last || commits < 20 {
		t.Fatalf("checkpoint history ends at %d after %d commits, checkpoint %d, want %d after 20 or more", prev, commits, checkpointSeq(t, reader), last)
	}
	t.Logf("%d events applied in %d commits across 20 kills", last, commits)

	// Zero downtime: a reader in a loop during a rebuild sees the whole
	// model every time.
	// Each read is one read transaction, and notes which b-tree holds the
	// live orders table: it changes at the swap, and only there.
	stop := make(chan struct{})
	reads := make(chan string, 1)
	go func() {
		roots := map[int64]int{}
		read := func() string {
			tx, err := reader.Begin()
			if err != nil {
				return err.Error()
			}
			defer tx.Rollback()
			var root int64
			if err := tx.QueryRow("SELECT rootpage FROM sqlite_master WHERE name = 'orders'").Scan(&root); err != nil {
				return err.Error()
			}
			got, err := readSQLite(tx)
			if err != nil {
				return err.Error()
			}
			if !cmp.Equal(want, got) {
				return fmt.Sprintf("a read during the rebuild differs (-want +got):\n%s", cmp.Diff(want, got))
			}
			roots[root]++
			return ""
		}
		for {
			select {
			case <-stop:
				if msg := read(); msg != "" {
					reads <- msg
					return
				}
				if len(roots) != 2 {
					reads <- fmt.Sprintf("the reader saw the live table in %d b-trees (%v), want 2: before and after the swap", len(roots), roots)
					return
				}
				reads <- fmt.Sprint(roots)
				return
			default:
			}
			if msg := read(); msg != "" {
				reads <- msg
				return
			}
		}
	}()
	code, _, errOut := runTributary(t, 5*time.Minute, "rebuild", "--config", cfg, "--sink", "rm")
	close(stop)
	res := <-reads
	if code != 0 {
		t.Fatalf("rebuild exited %d:\n%s", code, errOut)
	}
	if !strings.HasPrefix(res, "map[") {
		t.Fatalf("reader during the rebuild: %s", res)
	}
	t.Logf("whole reads during the rebuild, per b-tree of the live table: %s", res)
	if got := sqliteContent(t, reader); !cmp.Equal(want, got) {
		t.Fatalf("read model after rebuild differs (-source +read model):\n%s", cmp.Diff(want, got))
	}

	// The projection carries on after the swap.
	w.step()
	w.step()
	want, _ = w.settle(reader, nc, proj)
	if got := sqliteContent(t, reader); !cmp.Equal(want, got) {
		t.Fatalf("read model after the swap and more writes differs (-source +read model):\n%s", cmp.Diff(want, got))
	}
	proj.stop()

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
	src.stop()
}
