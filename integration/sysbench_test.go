package integration

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReadModelSysbench: sysbench oltp_write_only writes for 60 seconds
// (updates, deletes and re-inserts of the same ids, in transactions, from
// two threads) while tributary streams the binlog and project keeps a
// SQLite read model; afterwards the read model equals the sbtest tables.
func TestReadModelSysbench(t *testing.T) {
	sysbench, err := exec.LookPath("sysbench")
	if err != nil {
		t.Fatalf("sysbench is not installed (make test installs it: scripts/apt-install.sh sysbench): %v", err)
	}
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec("CREATE DATABASE sbtest")
	const stream = "TRIBUTARY_SB"
	src := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "sb", "--server-id", "5252", "--include", "sbtest.*")
	src.waitStreaming()
	dbPath := filepath.Join(t.TempDir(), "sb.db")
	cfg := writeConfig(t, ns.url(), stream, sinkConfig{Name: "rm", Path: dbPath, Tables: []string{"sbtest.sbtest1", "sbtest.sbtest2"}})
	proj := startTributary(t, "project", "--config", cfg)

	bench := func(timeout time.Duration, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, sysbench, append([]string{"oltp_write_only", "--db-driver=mysql", "--mysql-host=127.0.0.1",
			"--mysql-port=" + strconv.Itoa(db.port), "--mysql-user=root", "--mysql-password=", "--mysql-db=sbtest",
			"--tables=2", "--table-size=10000"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sysbench %v: %v\n%s", args, err, out)
		}
	}
	bench(2*time.Minute, "prepare")
	began := time.Now()
	bench(3*time.Minute, "--threads=2", "--time=60", "--report-interval=0", "run")
	t.Logf("sysbench ran %s", time.Since(began).Round(time.Second))

	// A last row: once the read model holds it, it holds everything before.
	db.exec("INSERT INTO sbtest.sbtest2 (id, k, c, pad) VALUES (1000000, 1, 'settle', 'settle')")
	reader := openReader(t, dbPath)
	waitApplied(t, reader, proj, "SELECT count(*) FROM sbtest2 WHERE id = 1000000")
	nc := ns.connect()
	checkCaughtUp(t, reader, "rm", nc, stream)
	conn := db.root()
	events := streamMsgs(t, nc, stream)
	for _, table := range []string{"sbtest1", "sbtest2"} {
		want := sourceRows(t, conn, "SELECT id, k, c, pad FROM sbtest."+table+" ORDER BY id")
		rows, err := reader.Query("SELECT id, k, c, pad FROM " + table + " ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		got, err := textRows(rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) < 9000 {
			t.Fatalf("source %s holds %d rows; sysbench should leave about 10,000", table, len(want))
		}
		if !cmp.Equal(want, got) {
			t.Fatalf("read model %s differs from the source (%d rows, read model %d):\n%s", table, len(want), len(got), cmp.Diff(want, got))
		}
		t.Logf("%s: %d rows equal", table, len(want))
	}
	t.Logf("%d events in the stream", events)
	if code := proj.stop(); code != 0 {
		t.Errorf("project exited %d after SIGTERM, want 0\n%s", code, proj.stderr)
	}
	if code := src.stop(); code != 0 {
		t.Errorf("start exited %d after SIGTERM, want 0\n%s", code, src.stderr)
	}
}
