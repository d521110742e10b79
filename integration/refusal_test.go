package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// streamExists reports whether a stream was created.
func streamExists(t *testing.T, ns *natsServer, stream string) bool {
	t.Helper()
	js, _ := jetstream.New(ns.connect())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("look up stream %s: %v", stream, err)
	}
	return true
}

// TestRefusals: every configuration that cannot give the guarantees is
// refused before anything is written, with exit status 3 and the statement
// or setting that fixes it.
func TestRefusals(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec("CREATE DATABASE r", "CREATE TABLE r.t (id INT PRIMARY KEY)",
		"CREATE USER 'weak'@'127.0.0.1' IDENTIFIED BY 'weak'", "GRANT SELECT ON *.* TO 'weak'@'127.0.0.1'")

	cases := []struct {
		name   string
		setup  []string // run as root before, undone by reset
		source string
		nats   string
		want   []string // in stderr
	}{
		{name: "statement format", setup: []string{"SET GLOBAL binlog_format='STATEMENT'"},
			want: []string{"FAIL binlog_format", "STATEMENT", "SET GLOBAL binlog_format='ROW'"}},
		{name: "mixed format", setup: []string{"SET GLOBAL binlog_format='MIXED'"},
			want: []string{"FAIL binlog_format", "MIXED", "SET GLOBAL binlog_format='ROW'"}},
		{name: "minimal image", setup: []string{"SET GLOBAL binlog_row_image='MINIMAL'"},
			want: []string{"FAIL binlog_row_image", "MINIMAL", "SET GLOBAL binlog_row_image='FULL'"}},
		{name: "noblob image", setup: []string{"SET GLOBAL binlog_row_image='NOBLOB'"},
			want: []string{"FAIL binlog_row_image", "NOBLOB", "SET GLOBAL binlog_row_image='FULL'"}},
		{name: "minimal metadata", setup: []string{"SET GLOBAL binlog_row_metadata='MINIMAL'"},
			want: []string{"FAIL binlog_row_metadata", "MINIMAL", "SET GLOBAL binlog_row_metadata='FULL'"}},
		{name: "no metadata", setup: []string{"SET GLOBAL binlog_row_metadata='NO_LOG'"},
			want: []string{"FAIL binlog_row_metadata", "NO_LOG", "SET GLOBAL binlog_row_metadata='FULL'"}},
		{name: "wrong password", source: fmt.Sprintf("mysql://tributary:nope@127.0.0.1:%d", db.port),
			want: []string{"access denied", "check the user and password"}},
		{name: "no replication privileges", source: fmt.Sprintf("mysql://weak:weak@127.0.0.1:%d", db.port),
			want: []string{"FAIL privileges", "missing REPLICATION SLAVE, REPLICATION CLIENT", "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'weak'"}},
		{name: "unreachable NATS", nats: fmt.Sprintf("nats://127.0.0.1:%d", freePort(t)),
			want: []string{"NATS server unreachable", "is the server running?"}},
		{name: "source server id", setup: []string{"SET GLOBAL server_id = 9100"},
			want: []string{"FAIL server_id", "the source itself is 9100"}},
	}
	reset := []string{"SET GLOBAL binlog_format='ROW'", "SET GLOBAL binlog_row_image='FULL'", "SET GLOBAL binlog_row_metadata='FULL'", "SET GLOBAL server_id = 1"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db.exec(tc.setup...)
			defer db.exec(reset...)
			source, natsURL := db.sourceURL(), ns.url()
			if tc.source != "" {
				source = tc.source
			}
			if tc.nats != "" {
				natsURL = tc.nats
			}
			stream := "TRIBUTARY_" + strings.ToUpper(strings.ReplaceAll(tc.name, " ", "_"))
			code, _, stderr := runTributary(t, time.Minute, "start", "--source", source, "--nats", natsURL, "--name", "r", "--stream", stream, "--server-id", "9100")
			if code != 3 {
				t.Fatalf("start exited %d, want 3 (preflight)\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if streamExists(t, ns, stream) {
				t.Errorf("stream %s was created; a refused start must write nothing", stream)
			}
			// check reports the same failure, with the same status.
			code, stdout, stderr := runTributary(t, time.Minute, "check", "--source", source, "--nats", natsURL, "--server-id", "9100")
			if code != 3 {
				t.Fatalf("check exited %d, want 3\n%s%s", code, stdout, stderr)
			}
		})
	}
}

// TestResumeAfterPurge: when the binlog resume needs is gone, resume names
// the missing position and the way out, exits 5, and writes nothing.
func TestResumeAfterPurge(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec("CREATE DATABASE p", "CREATE TABLE p.t (id INT PRIMARY KEY)")
	args := []string{"--source", db.sourceURL(), "--nats", ns.url(), "--name", "p", "--server-id", "9200"}
	p := startTributary(t, append([]string{"start"}, args...)...)
	p.waitStreaming()
	db.exec("INSERT INTO p.t VALUES (1), (2)")
	nc := ns.connect()
	waitForEvents(t, p, nc, "TRIBUTARY_P", 2)
	if code := p.stop(); code != 0 {
		t.Fatalf("start exited %d, want 0\n%s", code, p.stderr)
	}

	// While tributary is stopped, rows change and their binlog is purged.
	db.exec("INSERT INTO p.t VALUES (3)", "FLUSH BINARY LOGS", "INSERT INTO p.t VALUES (4)", "FLUSH BINARY LOGS")
	conn := db.root()
	r, err := conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		t.Fatal(err)
	}
	head, _ := r.GetString(0, 0)
	db.exec("PURGE BINARY LOGS TO '" + head + "'")

	code, _, stderr := runTributary(t, time.Minute, append([]string{"resume"}, args...)...)
	if code != 5 {
		t.Fatalf("resume exited %d, want 5 (binlog purged)\n%s", code, stderr)
	}
	for _, w := range []string{"purged", "0-1-", "tributary start --stream"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if n := streamMsgs(t, nc, "TRIBUTARY_P"); n != 2 {
		t.Errorf("stream holds %d events after the refused resume, want the 2 it had", n)
	}
}
