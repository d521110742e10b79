package integration

import (
	"encoding/json"
	"testing"
	"time"
)

type statusJSON struct {
	BinlogHead *struct {
		File    string `json:"file"`
		GTIDSet string `json:"gtid_set"`
	} `json:"binlog_head"`
	Stream struct {
		Messages uint64 `json:"messages"`
		Values   *struct {
			Bucket string `json:"bucket"`
			Bytes  uint64 `json:"bytes"`
		} `json:"values"`
	} `json:"stream"`
	LastEvent *struct {
		Seq     uint64 `json:"seq"`
		TxnLast bool   `json:"txn_last"`
	} `json:"last_event"`
	LagEvents   *int64   `json:"lag_events"`
	LagComplete bool     `json:"lag_complete"`
	LagSeconds  *float64 `json:"lag_seconds"`
}

func status(t *testing.T, args ...string) statusJSON {
	t.Helper()
	code, out, stderr := runTributary(t, time.Minute, append([]string{"status", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("status exited %d:\n%s", code, stderr)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json printed invalid JSON: %v\n%s", err, out)
	}
	return st
}

// TestStatus: status counts the row changes committed but not yet stored,
// over the tables the pipeline includes (read from the stream, not given
// again), and reports none once resume has caught up.
func TestStatus(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec("CREATE DATABASE s", "CREATE TABLE s.a (id INT PRIMARY KEY)", "CREATE TABLE s.b (id INT PRIMARY KEY)")
	src := []string{"--source", db.sourceURL(), "--nats", ns.url(), "--name", "s", "--server-id", "9600"}
	p := startTributary(t, append([]string{"start", "--include", "s.a"}, src...)...)
	p.waitStreaming()
	db.exec("INSERT INTO s.a VALUES (1), (2)")
	nc := ns.connect()
	waitForEvents(t, p, nc, "TRIBUTARY_S", 2)
	if code := p.stop(); code != 0 {
		t.Fatalf("start exited %d:\n%s", code, p.stderr)
	}

	// While stopped: 3 included row changes, 4 in a table not included.
	db.exec("INSERT INTO s.a VALUES (3)", "INSERT INTO s.a VALUES (4), (5)", "INSERT INTO s.b VALUES (1), (2), (3), (4)")
	st := status(t, src...)
	if st.LagEvents == nil || *st.LagEvents != 3 || !st.LagComplete {
		t.Fatalf("lag_events = %v (complete %v), want 3 counted completely", deref(st.LagEvents), st.LagComplete)
	}
	if st.LagSeconds == nil || *st.LagSeconds < 0 || *st.LagSeconds > 120 {
		t.Fatalf("lag_seconds = %v, want the age of the oldest unstored change", deref(st.LagSeconds))
	}
	if st.Stream.Messages != 2 || st.LastEvent == nil || st.LastEvent.Seq != 2 || !st.LastEvent.TxnLast {
		t.Fatalf("stream = %+v, last event = %+v; want 2 messages, the last at sequence 2 ending its transaction", st.Stream, st.LastEvent)
	}
	if st.BinlogHead == nil || st.BinlogHead.File == "" || st.BinlogHead.GTIDSet == "" {
		t.Fatalf("binlog_head = %+v, want a file and a GTID set", st.BinlogHead)
	}

	p = startTributary(t, append([]string{"resume"}, src...)...)
	waitForEvents(t, p, nc, "TRIBUTARY_S", 5)
	st = status(t, src...)
	if st.LagEvents == nil || *st.LagEvents != 0 || st.LagSeconds == nil || *st.LagSeconds != 0 {
		t.Fatalf("after catching up: lag_events = %v, lag_seconds = %v; want 0 and 0", deref(st.LagEvents), deref(st.LagSeconds))
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("resume exited %d:\n%s", code, p.stderr)
	}
}

// deref is what p points to, or nil, for messages.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
