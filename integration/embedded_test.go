package integration

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEmbeddedNATS: without --nats, start runs nats-server in-process on
// the --listen address, tail finds it through the data directory, and a
// taken port is reported with the way out.
func TestEmbeddedNATS(t *testing.T) {
	db := startMariaDB(t)
	db.exec("CREATE DATABASE e", "CREATE TABLE e.t (id INT PRIMARY KEY, v VARCHAR(20))")
	dataDir := filepath.Join(shortTempDir(t, "te-"), "data")

	// A taken port: say so, and how to get around it.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	code, _, stderr := runTributary(t, time.Minute, "start", "--source", db.sourceURL(), "--name", "e", "--server-id", "9500", "--data-dir", dataDir, "--listen", addr)
	if code == 0 || !strings.Contains(stderr, addr+" is already in use") || !strings.Contains(stderr, "--listen 127.0.0.1:0") {
		t.Fatalf("start on a taken port exited %d, want an error naming the port and --listen 127.0.0.1:0:\n%s", code, stderr)
	}

	p := startTributary(t, "start", "--source", db.sourceURL(), "--name", "e", "--server-id", "9500", "--data-dir", dataDir, "--listen", "127.0.0.1:0")
	p.waitStreaming()
	urlFile := filepath.Join(dataDir, "nats.url")
	b, err := os.ReadFile(urlFile)
	if err != nil {
		t.Fatalf("embedded server wrote no %s: %v", urlFile, err)
	}
	url := strings.TrimSpace(string(b))
	if !strings.HasPrefix(url, "nats://127.0.0.1:") || strings.HasSuffix(url, ":4222") {
		t.Fatalf("nats.url = %q, want a free loopback port", url)
	}
	db.exec("INSERT INTO e.t VALUES (1, 'a'), (2, 'b')", "UPDATE e.t SET v = 'c' WHERE id = 2")

	var lines []string
	waitFor(t, 30*time.Second, "3 events through tail --data-dir", func() bool {
		code, out, _ := runTributary(t, time.Minute, "tail", "--data-dir", dataDir, "--stream", "TRIBUTARY_E")
		lines = strings.Split(strings.TrimSpace(out), "\n")
		return code == 0 && len(lines) == 3
	})
	evs := decodeEvents(t, [][]byte{[]byte(lines[0]), []byte(lines[1]), []byte(lines[2])})
	var got []string
	for _, e := range evs {
		got = append(got, e.Type+" "+e.Subject+" "+strconv.FormatBool(e.TxLast))
	}
	want := []string{"e.t.created e.t.1 false", "e.t.created e.t.2 true", "e.t.updated e.t.2 true"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events = %q, want %q", got, want)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("start exited %d after SIGTERM:\n%s", code, p.stderr)
	}
	if _, err := os.Stat(urlFile); !os.IsNotExist(err) {
		t.Fatalf("%s still exists after the embedded server stopped (err %v)", urlFile, err)
	}
	// With the server gone, tail says so instead of trying port 4222.
	code, _, stderr = runTributary(t, time.Minute, "tail", "--data-dir", dataDir, "--stream", "TRIBUTARY_E")
	if code != 2 || !strings.Contains(stderr, "no embedded NATS server is running") {
		t.Fatalf("tail with a stopped embedded server exited %d, want 2 saying no server runs:\n%s", code, stderr)
	}

	// The data survives: resume on the same data directory continues.
	p = startTributary(t, "resume", "--source", db.sourceURL(), "--name", "e", "--server-id", "9500", "--data-dir", dataDir, "--listen", "127.0.0.1:0")
	p.waitStreaming()
	db.exec("DELETE FROM e.t WHERE id = 1")
	waitFor(t, 30*time.Second, "4 events", func() bool {
		code, out, _ := runTributary(t, time.Minute, "tail", "--data-dir", dataDir, "--stream", "TRIBUTARY_E")
		return code == 0 && strings.Count(out, "\n") == 4 && strings.Contains(out, `"type":"e.t.deleted"`)
	})
	if code := p.stop(); code != 0 {
		t.Fatalf("resume exited %d after SIGTERM:\n%s", code, p.stderr)
	}
}
