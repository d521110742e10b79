package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read /proc/%d/status: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parse VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// TestMillionRowTransaction: a single 1,000,000-row transaction goes
// through in bounded memory: it is streamed in parts with transaction
// boundaries, never held whole, and tributary's peak RSS stays under
// 200 MB (with an external NATS server).
func TestMillionRowTransaction(t *testing.T) {
	const rows = 1_000_000
	const limit = 200 << 20
	db := startMariaDB(t)
	ns := startNATSSync(t, "2m")
	db.exec("CREATE DATABASE big", "CREATE DATABASE seq", "CREATE TABLE big.t (id INT PRIMARY KEY, pad VARCHAR(320) NOT NULL, n BIGINT NOT NULL)")
	const stream = "TRIBUTARY_BIG"
	p := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "big", "--server-id", "9400")
	p.waitStreaming()

	began := time.Now()
	db.exec(fmt.Sprintf("INSERT INTO big.t SELECT seq, REPEAT('x', 300), seq * 1000003 FROM seq.seq_1_to_%d", rows))
	committed := time.Since(began)
	nc := ns.connect()
	waitFor(t, 5*time.Minute, "a million events", func() bool {
		if p.exited() {
			t.Fatalf("tributary exited %d:\n%s", p.code, p.stderr)
		}
		return streamMsgs(t, nc, stream) == rows
	})
	elapsed := time.Since(began)
	rss := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("1,000,000-row transaction: committed in %s, all stored %s after the statement began; tributary peak RSS %.1f MiB",
		committed.Round(time.Millisecond), elapsed.Round(time.Millisecond), float64(rss)/(1<<20))
	if rss >= limit {
		t.Errorf("tributary peak RSS = %.1f MiB, want under 200 MB", float64(rss)/(1<<20))
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("tributary exited %d after SIGTERM:\n%s", code, p.stderr)
	}
	last, ok := lastStored(t, ns, stream)
	if !ok || !last.Last || last.Index != strconv.Itoa(rows-1) {
		t.Fatalf("last stored event = %+v, want row %d flagged last in its transaction", last, rows-1)
	}
}
