package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const chaosTables = 3

// workload writes randomized transactions into chaos.t0..t2 and counts the
// row changes that were committed. It can be paused between transactions,
// so that the database can be restarted without a commit whose outcome is
// unknown.
type workload struct {
	t    *testing.T
	db   *mariaDB
	rng  *rand.Rand
	conn *client.Conn

	pause     sync.Mutex // held while the database restarts
	committed int64      // row changes in committed transactions
	txns      int
	rollbacks int
	largest   int
	live      [chaosTables][]int // ids present in each table
	nextID    int
}

func (w *workload) connect() {
	conn, err := client.Connect(fmt.Sprintf("127.0.0.1:%d", w.db.port), "root", "", "")
	if err != nil {
		w.t.Errorf("workload: connect: %v", err)
		return
	}
	w.conn = conn
}

// size draws a transaction size: mostly small, some up to the atomic batch
// limit, a few far beyond it.
func (w *workload) size() int {
	switch r := w.rng.IntN(100); {
	case r < 3:
		return 1001 + w.rng.IntN(4000)
	case r < 6:
		return 1000
	case r < 20:
		return 50 + w.rng.IntN(950)
	default:
		return 1 + w.rng.IntN(20)
	}
}

func (w *workload) run(ctx context.Context) {
	w.connect()
	for ctx.Err() == nil {
		w.pause.Lock()
		if w.conn == nil {
			w.connect()
		}
		err := w.txn()
		w.pause.Unlock()
		if err != nil {
			w.t.Errorf("workload: %v", err)
			return
		}
		time.Sleep(time.Duration(10+w.rng.IntN(40)) * time.Millisecond)
	}
	if w.conn != nil {
		w.conn.Close()
	}
}

func (w *workload) exec(q string) (int64, error) {
	r, err := w.conn.Execute(q)
	if err != nil {
		return 0, fmt.Errorf("%.200s: %w", q, err)
	}
	return int64(r.AffectedRows), nil
}

// txn runs one transaction of several multi-row statements over several
// tables, then commits it or, one time in ten, rolls it back.
func (w *workload) txn() error {
	target := w.size()
	rollback := w.rng.IntN(10) == 0
	if w.txns%40 == 39 {
		if _, err := w.exec("FLUSH BINARY LOGS"); err != nil {
			return err
		}
	}
	if _, err := w.exec("BEGIN"); err != nil {
		return err
	}
	var changes int64
	live := w.live
	for i := range live {
		live[i] = append([]int(nil), w.live[i]...)
	}
	for int(changes) < target {
		tbl := w.rng.IntN(chaosTables)
		n := min(target-int(changes), 1+w.rng.IntN(500))
		var q string
		switch op := w.rng.IntN(10); {
		case op < 5 || len(live[tbl]) < n:
			vals := make([]string, n)
			for i := range vals {
				w.nextID++
				vals[i] = fmt.Sprintf("(%d,%d,'v%d-%s',%d.%02d,0)", w.nextID, w.rng.IntN(7), w.nextID, strings.Repeat("x", w.rng.IntN(40)), w.rng.IntN(100000), w.rng.IntN(100))
				live[tbl] = append(live[tbl], w.nextID)
			}
			q = fmt.Sprintf("INSERT INTO chaos.t%d (id,grp,val,amount,version) VALUES %s", tbl, strings.Join(vals, ","))
		case op < 8:
			q = fmt.Sprintf("UPDATE chaos.t%d SET version = version + 1, amount = amount + 0.01, val = CONCAT('u', id, '-', version) WHERE id IN (%s)", tbl, idList(w.pick(live[tbl], n)))
		default:
			ids := w.pick(live[tbl], n)
			q = fmt.Sprintf("DELETE FROM chaos.t%d WHERE id IN (%s)", tbl, idList(ids))
			live[tbl] = without(live[tbl], ids)
		}
		n64, err := w.exec(q)
		if err != nil {
			return err
		}
		changes += n64
	}
	if rollback {
		w.rollbacks++
		_, err := w.exec("ROLLBACK")
		return err
	}
	if _, err := w.exec("COMMIT"); err != nil {
		return err
	}
	w.live = live
	w.committed += changes
	w.txns++
	w.largest = max(w.largest, int(changes))
	return nil
}

func (w *workload) pick(ids []int, n int) []int {
	n = min(n, len(ids))
	picked := make([]int, 0, n)
	seen := map[int]bool{}
	for len(picked) < n {
		id := ids[w.rng.IntN(len(ids))]
		if !seen[id] {
			seen[id] = true
			picked = append(picked, id)
		}
	}
	return picked
}

func idList(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}

func without(ids, drop []int) []int {
	gone := map[int]bool{}
	for _, id := range drop {
		gone[id] = true
	}
	out := ids[:0:0]
	for _, id := range ids {
		if !gone[id] {
			out = append(out, id)
		}
	}
	return out
}

// TestExactlyOnceUnderFailures is DESIGN.md guarantee 1 and 3: while a
// randomized workload runs, tributary is SIGKILLed and resumed 20 times,
// the nats-server process is killed and restarted 5 times, MariaDB is
// restarted 3 times and the binlog is rotated; afterwards the stream holds
// every committed row change exactly once, in commit order, and replaying
// it reproduces every table.
func TestExactlyOnceUnderFailures(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 42))
	db := startMariaDB(t)
	ns := startNATS(t)
	stmts := []string{"CREATE DATABASE chaos"}
	for i := range chaosTables {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE chaos.t%d (id INT PRIMARY KEY, grp INT NOT NULL, val VARCHAR(80) NOT NULL, amount DECIMAL(12,2) NOT NULL, version INT NOT NULL)", i))
	}
	db.exec(stmts...)

	const stream = "TRIBUTARY_CHAOS"
	args := []string{"--source", db.sourceURL(), "--nats", ns.url(), "--name", "chaos", "--server-id", "7001", "--include", "chaos.*"}
	p := startTributary(t, append([]string{"start"}, args...)...)
	p.waitStreaming()

	w := &workload{t: t, db: db, rng: rand.New(rand.NewPCG(seed, 7))}
	ctx, stopWorkload := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.run(ctx) }()
	t.Cleanup(func() { stopWorkload(); wg.Wait() })

	nc := ns.connect()
	waitFor(t, 60*time.Second, "the first event", func() bool { return streamMsgs(t, nc, stream) > 0 })

	// 20 kills of tributary, 5 of nats-server, 3 restarts of MariaDB, in
	// random order and at random moments.
	var actions []string
	for range 20 {
		actions = append(actions, "kill-tributary")
	}
	for range 5 {
		actions = append(actions, "kill-nats")
	}
	for range 3 {
		actions = append(actions, "restart-mariadb")
	}
	rng.Shuffle(len(actions), func(i, j int) { actions[i], actions[j] = actions[j], actions[i] })

	partial := map[string]bool{} // transactions a crash left half stored
	// checkTail looks at what a crash left stored. A killed tributary's last
	// appends may still be landing, and the server writes a committed batch
	// message by message, so wait until the stream is quiet first; after a
	// nats-server restart the resumed pipeline itself waits a second before
	// appending, so the recovered state is what is read.
	checkTail := func(when string) {
		if when == "kill-tributary" {
			waitQuiet(t, nc, stream, 500*time.Millisecond)
		}
		last, ok := lastStored(t, ns, stream)
		if ok && !last.Last {
			partial[last.Txn] = true
			t.Logf("after %s the stream ends inside transaction %s (row %s, batch %q seq %s)", when, last.Txn, last.Index, last.BatchID, last.BatchSeq)
		}
	}
	restarts := 0
	for i, a := range actions {
		time.Sleep(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
		if p.exited() {
			t.Fatalf("tributary exited by itself with status %d before action %d:\n%s", p.code, i, p.stderr)
		}
		switch a {
		case "kill-tributary":
			p.kill()
			checkTail(a)
			p = startTributary(t, append([]string{"resume"}, args...)...)
		case "kill-nats":
			ns.kill()
			time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
			ns.start()
			checkTail(a)
		case "restart-mariadb":
			w.pause.Lock()
			if w.conn != nil {
				w.conn.Close()
				w.conn = nil
			}
			// Alternate by restart, not by place in the shuffled order,
			// so that both kinds happen whatever the seed.
			if restarts++; restarts%2 == 1 {
				db.restart()
				a += " (clean shutdown)"
			} else {
				db.kill() // crash: InnoDB and binlog recovery on start
				db.start()
				a += " (crash)"
			}
			w.pause.Unlock()
		}
		t.Logf("action %d: %s (stream holds %d events)", i+1, a, streamMsgs(t, nc, stream))
	}
	stopWorkload()
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("workload: %d transactions committed (%d row changes, largest %d rows), %d rolled back", w.txns, w.committed, w.largest, w.rollbacks)

	waitFor(t, 3*time.Minute, fmt.Sprintf("the stream to catch up with %d row changes", w.committed), func() bool {
		if p.exited() {
			t.Fatalf("tributary exited with status %d during catch-up:\n%s", p.code, p.stderr)
		}
		return streamMsgs(t, nc, stream) >= uint64(w.committed)
	})
	if code := p.stop(); code != 0 {
		t.Fatalf("tributary exited %d after SIGTERM, want 0:\n%s", code, p.stderr)
	}

	evs := decodeEvents(t, tailAll(t, ns.url(), stream))
	if int64(len(evs)) != w.committed {
		t.Fatalf("stream holds %d events, want %d (one per committed row change)", len(evs), w.committed)
	}
	verifyStream(t, evs, partial)

	// Replaying the stream in order reproduces every table.
	state := replay(t, evs)
	conn := db.root()
	for i := range chaosTables {
		table := fmt.Sprintf("chaos.t%d", i)
		rows := rowsAsStrings(t, conn, "SELECT id, grp, val, amount, version FROM "+table+" ORDER BY id")
		want := map[string]map[string]string{}
		for _, r := range rows {
			m := map[string]string{}
			for k, v := range r {
				m[k] = *v
			}
			want[m["id"]] = m
		}
		if len(state[table]) != len(want) {
			t.Errorf("%s: replay has %d rows, the table %d", table, len(state[table]), len(want))
		}
		for id, wr := range want {
			if got := state[table][id]; !equalRow(got, wr) {
				t.Errorf("%s id %s: replay %v, table %v", table, id, got, wr)
			}
		}
	}
}

// waitQuiet waits until the stream's message count has not changed for d.
func waitQuiet(t *testing.T, nc *nats.Conn, stream string, d time.Duration) {
	t.Helper()
	n, since := streamMsgs(t, nc, stream), time.Now()
	deadline := time.Now().Add(30 * time.Second)
	for time.Since(since) < d {
		if time.Now().After(deadline) {
			t.Fatalf("stream %s kept growing for 30s with no writer", stream)
		}
		time.Sleep(d / 10)
		if m := streamMsgs(t, nc, stream); m != n {
			n, since = m, time.Now()
		}
	}
}

type storedMark struct {
	Txn, Index        string
	Last              bool
	BatchID, BatchSeq string
}

func lastStored(t *testing.T, ns *natsServer, stream string) (storedMark, bool) {
	t.Helper()
	nc, err := nats.Connect(ns.url())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	si := st.CachedInfo()
	if si.State.Msgs == 0 {
		return storedMark{}, false
	}
	m, err := st.GetMsg(ctx, si.State.LastSeq)
	if err != nil {
		t.Fatalf("last message: %v", err)
	}
	mark := map[string]string{} // Tributary-Mark: key=value&key=value (docs/EVENTS.md)
	for _, f := range strings.Split(m.Header.Get("Tributary-Mark"), "&") {
		k, v, _ := strings.Cut(f, "=")
		mark[k] = v
	}
	txn := mark["tx"] // left out when it is the GTID, or without GTIDs where it begins
	if txn == "" {
		txn = mark["gtid"]
	}
	if txn == "" {
		txn = mark["begin"]
	}
	if txn == "" || mark["i"] == "" {
		t.Fatalf("last message %d: header Tributary-Mark %q names no transaction or no i", si.State.LastSeq, m.Header.Get("Tributary-Mark"))
	}
	return storedMark{Txn: txn, Index: mark["i"], Last: mark["last"] == "1",
		BatchID: m.Header.Get("Nats-Batch-Id"), BatchSeq: m.Header.Get("Nats-Batch-Sequence")}, true
}

// verifyStream checks ids, transaction order and boundaries: ids never
// repeat; transactions appear in GTID order, each once, its rows indexed
// 0..n-1 and only the last flagged; a transaction a crash cut in two is
// larger than an atomic batch.
func verifyStream(t *testing.T, evs []event, partial map[string]bool) {
	t.Helper()
	ids := map[string]bool{}
	sizes := map[string]int{}
	var prevSeq int64 = -1
	var cur string
	for i, e := range evs {
		if ids[e.ID] {
			t.Fatalf("event %d: id %s repeats", i, e.ID)
		}
		ids[e.ID] = true
		if e.TxID != cur {
			if cur != "" && !evs[i-1].TxLast {
				t.Fatalf("event %d: transaction %s starts before %s ended", i, e.TxID, cur)
			}
			seq := gtidSeq(t, e.GTID)
			if seq <= prevSeq {
				t.Fatalf("event %d: transaction %s after %d: not in commit order", i, e.GTID, prevSeq)
			}
			prevSeq, cur = seq, e.TxID
			if e.TxIndex != 0 {
				t.Fatalf("event %d: transaction %s starts at row %d", i, e.TxID, e.TxIndex)
			}
		} else if e.TxIndex != evs[i-1].TxIndex+1 || evs[i-1].TxLast {
			t.Fatalf("event %d: row %d of %s follows row %d (last=%v)", i, e.TxIndex, e.TxID, evs[i-1].TxIndex, evs[i-1].TxLast)
		}
		sizes[e.TxID]++
	}
	if len(evs) > 0 && !evs[len(evs)-1].TxLast {
		t.Fatalf("the stream ends inside transaction %s", cur)
	}
	for txn := range partial {
		if sizes[txn] <= 1000 {
			t.Errorf("transaction %s of %d rows was left half stored by a crash: transactions up to 1000 rows must be atomic", txn, sizes[txn])
		}
	}
	var big []int
	for _, n := range sizes {
		if n > 1000 {
			big = append(big, n)
		}
	}
	sort.Ints(big)
	t.Logf("stream: %d events, %d transactions, %d over 1000 rows %v, %d cut by crashes", len(evs), len(sizes), len(big), big, len(partial))
}

func gtidSeq(t *testing.T, gtid string) int64 {
	t.Helper()
	i := strings.LastIndexByte(gtid, '-')
	n, err := strconv.ParseInt(gtid[i+1:], 10, 64)
	if err != nil {
		t.Fatalf("GTID %q: %v", gtid, err)
	}
	return n
}

// replay applies the events in order, checking that each update and delete
// starts from the row image the previous events left.
func replay(t *testing.T, evs []event) map[string]map[string]map[string]string {
	t.Helper()
	state := map[string]map[string]map[string]string{}
	for i, e := range evs {
		table := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(e.Type, ".created"), ".updated"), ".deleted")
		if state[table] == nil {
			state[table] = map[string]map[string]string{}
		}
		var key map[string]json.Number
		if err := json.Unmarshal(e.Data.Key, &key); err != nil {
			t.Fatalf("event %d key: %v", i, err)
		}
		id := key["id"].String()
		before, after := flatRow(t, e.Data.Before), flatRow(t, e.Data.After)
		cur, exists := state[table][id]
		switch e.Data.Op {
		case "c":
			if exists {
				t.Fatalf("event %d creates %s id %s, which exists", i, table, id)
			}
		case "u", "d":
			if !exists || !equalRow(cur, before) {
				t.Fatalf("event %d (%s) on %s id %s: before %v, but replay holds %v", i, e.Data.Op, table, id, before, cur)
			}
		}
		if after == nil {
			delete(state[table], id)
		} else {
			state[table][id] = after
		}
	}
	return state
}

func flatRow(t *testing.T, raw json.RawMessage) map[string]string {
	t.Helper()
	if string(raw) == "null" || len(raw) == 0 {
		return nil
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("row %s: %v", raw, err)
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func equalRow(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
