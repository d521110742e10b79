package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// TestFencing is DESIGN.md guarantee 2: a second resume against a stream
// another tributary is writing cannot interleave events; one of the two
// stops with a clear error, and the stream stays exact.
func TestFencing(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec("CREATE DATABASE f", "CREATE TABLE f.t (id INT PRIMARY KEY, v INT)")
	const stream = "TRIBUTARY_F"
	base := []string{"--source", db.sourceURL(), "--nats", ns.url(), "--name", "f"}
	a := startTributary(t, append([]string{"start", "--server-id", "9301"}, base...)...)
	a.waitStreaming()
	nc := ns.connect()

	// Busy source: the second writer sees the stream grow without it and
	// stops before writing anything.
	var inserted atomic.Int64
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := client.Connect(fmt.Sprintf("127.0.0.1:%d", db.port), "root", "", "")
		if err != nil {
			t.Errorf("connect: %v", err)
			return
		}
		defer conn.Close()
		for i := 1; ctx.Err() == nil; i++ {
			if _, err := conn.Execute(fmt.Sprintf("INSERT INTO f.t VALUES (%d, 0)", i)); err != nil {
				t.Errorf("insert: %v", err)
				return
			}
			inserted.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	waitFor(t, 30*time.Second, "events", func() bool { return streamMsgs(t, nc, stream) > 10 })
	b := startTributary(t, append([]string{"resume", "--server-id", "9302"}, base...)...)
	if !b.wait(60 * time.Second) {
		t.Fatalf("the second tributary is still running against a busy stream\n%s", b.stderr)
	}
	if b.code != 4 || !strings.Contains(b.stderr.String(), "another tributary is running for this source") {
		t.Fatalf("second resume exited %d, want 4 naming the other writer:\n%s", b.code, b.stderr)
	}
	stop()
	wg.Wait()
	waitFor(t, 30*time.Second, "the first writer to catch up", func() bool { return streamMsgs(t, nc, stream) == uint64(inserted.Load()) })
	if a.exited() {
		t.Fatalf("the first tributary stopped (status %d):\n%s", a.code, a.stderr)
	}

	// Idle source: the second writer cannot tell the first is alive until
	// both append the same transaction; fencing lets one store it and stops
	// the other.
	c := startTributary(t, append([]string{"resume", "--server-id", "9303"}, base...)...)
	c.waitStreaming()
	before := streamMsgs(t, nc, stream)
	for i := range 20 {
		db.exec(fmt.Sprintf("UPDATE f.t SET v = v + 1 WHERE id <= %d", 1+i%3))
	}
	waitFor(t, 60*time.Second, "a writer to be fenced out", func() bool { return a.exited() || c.exited() })
	for _, p := range []*proc{a, c} {
		if p.exited() {
			assertFenced(t, p)
		}
	}
	var wantEvents uint64
	for i := range 20 {
		wantEvents += uint64(1 + i%3)
	}
	// The loser's appends already in flight may land in the slots the
	// winner expected, fencing it out too; what may never happen is a
	// duplicate or a gap. Whoever is left, or a fresh resume, completes
	// the stream.
	survivor, fresh := a, false
	if a.exited() {
		survivor = c
	}
	want := before + wantEvents
	complete := func() bool { return streamMsgs(t, nc, stream) == want }
	waitFor(t, 30*time.Second, "every update stored, or the other writer fenced out too", func() bool {
		return complete() || survivor.exited()
	})
	if !complete() {
		assertFenced(t, survivor)
		t.Logf("both writers were fenced out (the loser's in-flight append took the winner's next slot); resuming")
		survivor, fresh = startTributary(t, append([]string{"resume", "--server-id", "9304"}, base...)...), true
		waitFor(t, 30*time.Second, "every update in the stream", complete)
	}
	// The winner too may be fenced out by the loser's last in-flight
	// append; a fresh resume has no one left to conflict with.
	if code := survivor.stop(); code != 0 && (fresh || code != 4) {
		t.Fatalf("remaining writer exited %d after SIGTERM:\n%s", code, survivor.stderr)
	} else if code == 4 {
		assertFenced(t, survivor)
	}
	evs := decodeEvents(t, tailAll(t, ns.url(), stream))
	if uint64(len(evs)) != before+wantEvents {
		t.Fatalf("stream holds %d events, want %d", len(evs), before+wantEvents)
	}
	verifyStream(t, evs, nil)
	replay(t, evs)
}

// assertFenced checks that a tributary stopped because fencing refused its
// append.
func assertFenced(t *testing.T, p *proc) {
	t.Helper()
	if p.code != 4 || !strings.Contains(p.stderr.String(), "another writer appended") {
		t.Fatalf("fenced-out tributary exited %d, want 4 with a conflict error:\n%s", p.code, p.stderr)
	}
}
