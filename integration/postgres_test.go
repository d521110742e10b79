package integration

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/nats-io/nats.go/jetstream"
)

// startPostgres starts a private PostgreSQL with scripts/postgres-sandbox.sh
// and returns its DSN; it is stopped when the test ends.
func startPostgres(t testing.TB) string {
	t.Helper()
	dir := shortTempDir(t, "pg")
	script := filepath.Join(repoRoot, "scripts", "postgres-sandbox.sh")
	out, err := exec.Command(script, "start", dir).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("postgres-sandbox.sh start: %v\n%s", err, stderr)
	}
	t.Cleanup(func() { _ = exec.Command(script, "stop", dir).Run() })
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "POSTGRES_DSN="); ok {
			return strings.Trim(v, `'"`)
		}
	}
	t.Fatalf("postgres-sandbox.sh start printed no POSTGRES_DSN:\n%s", out)
	return ""
}

// The shop tables as PostgreSQL holds them (docs/EVENTS.md, Read models),
// read as the source's text: numeric, text and integers read alike;
// timestamp(3) and bytea need formatting as MariaDB writes them.
var postgresQueries = map[string]string{
	"orders":    `SELECT id::text, status, total::text, note, to_char(at, 'YYYY-MM-DD HH24:MI:SS.MS'), upper(encode(bin, 'hex')), n::text, f::text FROM orders ORDER BY orders.id`,
	"customers": "SELECT id::text, name, tier FROM customers ORDER BY customers.id",
}

func postgresContent(t testing.TB, db *sql.DB) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	for name, q := range postgresQueries {
		rows, err := db.Query(q)
		if err != nil {
			if strings.Contains(err.Error(), "does not exist") {
				return nil
			}
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		got := [][]string{}
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = "NULL"
				if v.Valid {
					row[i] = v.String
				}
			}
			got = append(got, row)
		}
		rows.Close()
		out[name] = got
	}
	return out
}

// TestReadModelPostgres: a PostgreSQL read model, and a KV one beside it,
// kept by one project through
// the shop workload and 5 SIGKILLs equals the source in the canonical form,
// and a rebuild as of a recorded instant reproduces the source then.
func TestReadModelPostgres(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	dsn := startPostgres(t)
	db.exec(readModelSchema...)
	conn := db.root()
	w := &shopWorkload{t: t, conn: conn, rnd: rand.New(rand.NewPCG(5, 6))}
	src := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "pg", "--server-id", "5353", "--include", "shop.*")
	src.waitStreaming()
	for range 40 {
		w.step()
	}
	w.big(1200)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	at, then := time.Now(), sourceContent(t, conn)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))

	cfg := filepath.Join(t.TempDir(), "tributary.yaml")
	yaml := fmt.Sprintf("nats: %s\nstream: TRIBUTARY_PG\nsinks:\n  - name: pg\n    kind: postgres\n    dsn: %s\n    tables: [shop.orders, shop.customers]\n    batch: 300\n"+
		"  - name: latest\n    kind: kv\n    tables: [shop.customers]\n", ns.url(), dsn)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	reader, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	args := []string{"project", "--config", cfg}
	proj := startTributary(t, args...)
	rnd := rand.New(rand.NewPCG(7, 8))
	for kill := range 5 {
		for range 10 + rnd.IntN(20) {
			w.step()
		}
		time.Sleep(time.Duration(200+rnd.IntN(400)) * time.Millisecond)
		if proj.exited() {
			t.Fatalf("project exited %d before kill %d:\n%s", proj.code, kill, proj.stderr)
		}
		_ = proj.cmd.Process.Signal(syscall.SIGKILL)
		proj.kill()
		proj = startTributary(t, args...)
	}
	w.next++
	w.txn(fmt.Sprintf("INSERT INTO shop.customers VALUES (%d, 'settle', 'gold')", 1_000_000+w.next))
	want := sourceContent(t, conn)
	deadline := time.Now().Add(2 * time.Minute)
	for got := postgresContent(t, reader); !cmp.Equal(want, got); got = postgresContent(t, reader) {
		if proj.exited() || time.Now().After(deadline) {
			t.Fatalf("the PostgreSQL read model differs from the source (-source +read model):\n%s\nproject (exited: %v):\n%s", cmp.Diff(want, got), proj.exited(), proj.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The KV read model of the same run: the latest customer row per key.
	nc := ns.connect()
	kvCustomers := func() [][]string {
		kv, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		b, err := kv.KeyValue(context.Background(), "TRIBUTARY_SINK_LATEST")
		if err != nil {
			t.Fatalf("KV read model: %v", err)
		}
		keys, err := b.ListKeysFiltered(context.Background(), "customers.>")
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]string
		for k := range keys.Keys() {
			e, err := b.Get(context.Background(), k)
			if err != nil {
				t.Fatalf("get %s: %v", k, err)
			}
			var r struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
				Tier string `json:"tier"`
			}
			if err := json.Unmarshal(e.Value(), &r); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			rows = append(rows, []string{strconv.FormatInt(r.ID, 10), r.Name, r.Tier})
		}
		sort.Slice(rows, func(i, j int) bool { a, _ := strconv.Atoi(rows[i][0]); b, _ := strconv.Atoi(rows[j][0]); return a < b })
		return rows
	}
	waitFor(t, time.Minute, "the KV read model to equal the source", func() bool { return cmp.Equal(want["customers"], kvCustomers()) })
	proj.stop()

	code, _, errOut := runTributary(t, 5*time.Minute, "rebuild", "--config", cfg, "--sink", "pg", "--as-of", at.UTC().Format(time.RFC3339Nano))
	if code != 0 {
		t.Fatalf("rebuild --as-of exited %d:\n%s", code, errOut)
	}
	if got := postgresContent(t, reader); !cmp.Equal(then, got) {
		t.Fatalf("rebuild --as-of %s differs from the source then (-then +read model):\n%s", at, cmp.Diff(then, got))
	}
	src.stop()
}
