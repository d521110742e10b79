package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"math/rand/v2"
	"sort"
	"strconv"
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
	t.Cleanup(func() { runScript(t, nil, "postgres-sandbox.sh", "stop", dir) })
	out := runScript(t, nil, "postgres-sandbox.sh", "start", dir)
	dsn := envValue(out, "POSTGRES_DSN")
	if dsn == "" {
		t.Fatalf("postgres-sandbox.sh start printed no POSTGRES_DSN:\n%s", out)
	}
	return dsn
}

// The shop tables as PostgreSQL holds them (docs/EVENTS.md, Read models),
// read as the source's text: numeric, text and integers read alike;
// timestamp(3) and bytea need formatting as MariaDB writes them.
var postgresQueries = map[string]string{
	"orders":    `SELECT id::text, status, total::text, note, to_char(at, 'YYYY-MM-DD HH24:MI:SS.MS'), upper(encode(bin, 'hex')), n::text, f::text FROM orders ORDER BY orders.id`,
	"customers": "SELECT id::text, name, tier FROM customers ORDER BY customers.id",
}

// postgresContent reads the PostgreSQL read model's tables as text; nil if
// they are not there (yet).
func postgresContent(t testing.TB, db *sql.DB) map[string][][]string {
	t.Helper()
	out, err := readModelContent(db, postgresQueries)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReadModelPostgres: a PostgreSQL read model, and a KV one beside it,
// kept by one project through the shop workload and 5 SIGKILLs equals the
// source in the canonical form, and a rebuild as of a recorded instant
// reproduces the source then.
func TestReadModelPostgres(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	dsn := startPostgres(t)
	db.exec(readModelSchema...)
	const stream = "TRIBUTARY_PG"
	conn := db.root()
	w := &shopWorkload{t: t, conn: conn, rnd: rand.New(rand.NewPCG(5, 6))}
	src := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "pg", "--server-id", "5353", "--include", "shop.*")
	src.waitStreaming()
	for range 40 {
		w.step()
	}
	w.big(1200)
	at, then := quietInstant(t, conn)

	cfg := writeConfig(t, ns.url(), stream,
		sinkConfig{Name: "pg", Kind: "postgres", DSN: dsn, Tables: shopTables, Batch: 300},
		sinkConfig{Name: "latest", Kind: "kv", Tables: []string{"shop.customers"}})
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
		proj.kill()
		proj = startTributary(t, args...)
	}
	want := w.settle(reader, proj)
	if got := postgresContent(t, reader); !cmp.Equal(want, got) {
		t.Fatalf("the PostgreSQL read model differs from the source (-source +read model):\n%s", cmp.Diff(want, got))
	}
	checkCaughtUp(t, reader, "pg", ns.connect(), stream)

	// The KV read model of the same run: the latest customer row per key.
	js, err := jetstream.New(ns.connect())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, "TRIBUTARY_SINK_LATEST")
	if err != nil {
		t.Fatalf("KV read model: %v", err)
	}
	kvCustomers := func() [][]string {
		keys, err := kv.ListKeysFiltered(ctx, "customers.>")
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]string
		for k := range keys.Keys() {
			e, err := kv.Get(ctx, k)
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
	if code := proj.stop(); code != 0 {
		t.Errorf("project exited %d after SIGTERM, want 0\n%s", code, proj.stderr)
	}

	code, _, errOut := runTributary(t, 5*time.Minute, "rebuild", "--config", cfg, "--sink", "pg", "--as-of", at.UTC().Format(time.RFC3339Nano))
	if code != 0 {
		t.Fatalf("rebuild --as-of exited %d:\n%s", code, errOut)
	}
	if got := postgresContent(t, reader); !cmp.Equal(then, got) {
		t.Fatalf("rebuild --as-of %s differs from the source then (-then +read model):\n%s", at, cmp.Diff(then, got))
	}
	if code := src.stop(); code != 0 {
		t.Errorf("start exited %d after SIGTERM, want 0\n%s", code, src.stderr)
	}
}
