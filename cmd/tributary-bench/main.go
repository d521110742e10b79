// Command tributary-bench measures Tributary's end-to-end throughput beside
// the two limits it is bounded by, in one run against one MariaDB binlog
// and one nats-server: (a) go-mysql decoding the binlog and nothing else,
// (b) JetStream taking async publishes of same-size messages with the same
// headers and stream configuration, and (c) the tributary binary from the
// first binlog event to the last acknowledgement. It is run by make bench
// (scripts/bench.sh), never by make test; docs/BENCHMARKS.md records its
// output.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	trib "github.com/tributary-cdc/tributary"
	"github.com/tributary-cdc/tributary/eventlog"
)

var (
	dbPort     = flag.Int("db-port", 0, "port of the MariaDB sandbox (root without password on 127.0.0.1)")
	natsBin    = flag.String("nats-server", "", "nats-server binary built from the embedded module version")
	tributary  = flag.String("tributary", "bin/tributary", "tributary binary")
	workDir    = flag.String("work", ".bench", "work directory")
	changes    = flag.Int("changes", 1_000_000, "row changes to generate")
	runs       = flag.Int("runs", 3, "runs of each measurement")
	txnRows    = flag.Int("txn-rows", 100, "row changes per transaction")
	generateOK = flag.Bool("generate", true, "generate the workload (false: reuse the binlog range in work/range)")
	modes      = flag.String("modes", "always,interval", "server fsync modes to measure")
	series     = flag.String("series", "a,b,b',b+,c,r", "measurements to run: a (decode), b (publish), b' (publish with Msg-Id), b+ (publish in atomic batches), c (tributary), r (read models: replay and rebuild)")
)

func want(s string) bool { return slices.Contains(strings.Split(*series, ","), s) }

// binlogSeries are the series that measure the binlog range of workload.
var binlogSeries = []string{"a", "b", "b'", "b+", "c"}

func main() {
	flag.Parse()
	log.SetFlags(0)
	if *dbPort == 0 || *natsBin == "" {
		log.Fatal("tributary-bench: --db-port and --nats-server are required (run it through make bench)")
	}
	if err := os.MkdirAll(*workDir, 0o755); err != nil {
		log.Fatal(err)
	}
	var report []string
	if slices.ContainsFunc(binlogSeries, want) {
		report = binlog()
	}
	if want("r") {
		rm := readModels("always")
		fmt.Println("\n| fsync | events | read model | events/s (median) | peak RSS |")
		fmt.Println("|---|---|---|---|---|")
		for _, r := range rm {
			fmt.Println(r)
		}
	}
	if report != nil {
		fmt.Println("\n| fsync | (a) decode ev/s | (b) publish msg/s | (b') with Msg-Id msg/s | (b+) atomic batches msg/s | (c) tributary ev/s | (c)/min(a,b) | (c)/min(a,b+) | tributary peak RSS |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|")
		for _, r := range report {
			fmt.Println(r)
		}
	}
}

// binlog runs series a to c over the workload's binlog range and returns
// their report table's rows, one per fsync mode.
func binlog() []string {
	from, to, n := workload()
	fmt.Printf("binlog: %d row changes in transactions of %d, from %s to %s\n\n", n, *txnRows, from, to)

	var decode summary
	if want("a") {
		decode = measure("(a) go-mysql decode", func() result { return decodeRun(from, to, n) })
	}
	var report []string
	for _, mode := range strings.Split(*modes, ",") {
		ns := startNATS(mode)
		var pub, dedup, batched, e2e summary
		if want("b") {
			pub = measure("(b) JetStream async publish, fsync "+mode, func() result { return publishRun(ns.url, n, publishPlain) })
		}
		if want("b'") {
			dedup = measure("(b') the same with Nats-Msg-Id dedup, fsync "+mode, func() result { return publishRun(ns.url, n, publishMsgID) })
		}
		if want("b+") {
			batched = measure("(b+) the same in atomic batches of 1,000, fsync "+mode, func() result { return publishRun(ns.url, n, publishAtomic) })
		}
		if want("c") {
			e2e = measure("(c) tributary end to end, fsync "+mode, func() result { return tributaryRun(ns.url, from, n) })
		}
		ns.stop()
		report = append(report, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %.0f MiB |", mode, figure(decode), figure(pub), figure(dedup), figure(batched),
			figure(e2e), ratio(e2e, decode, pub), ratio(e2e, decode, batched), e2e.rssMiB))
	}
	return report
}

type result struct {
	rate   float64 // per second
	rssMiB float64
}

type summary struct {
	median float64
	rssMiB float64
}

func measure(name string, run func() result) summary {
	var rates []float64
	var rss float64
	for i := range *runs {
		r := run()
		rates = append(rates, r.rate)
		rss = max(rss, r.rssMiB)
		fmt.Printf("  %s, run %d: %.0f/s\n", name, i+1, r.rate)
	}
	slices.Sort(rates)
	s := summary{median: rates[len(rates)/2], rssMiB: rss}
	fmt.Printf("%s: median %.0f/s (runs %v)\n", name, s.median, rounded(rates))
	return s
}

// ratio is c/min(a,b), or "—" unless all three were run.
func ratio(c, a, b summary) string {
	if c.median == 0 || a.median == 0 || b.median == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", c.median/min(a.median, b.median))
}

// figure is a median for the report table; "—" for a series not run.
func figure(s summary) string {
	if s.median == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f", s.median)
}

func rounded(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

func root() *client.Conn {
	c, err := client.Connect(fmt.Sprintf("127.0.0.1:%d", *dbPort), "root", "", "")
	if err != nil {
		log.Fatalf("connect to MariaDB: %v", err)
	}
	return c
}

func must(r *mysql.Result, err error) *mysql.Result {
	if err != nil {
		log.Fatal(err)
	}
	return r
}

func head(c *client.Conn) mysql.Position {
	r := must(c.Execute("SHOW MASTER STATUS"))
	f, _ := r.GetString(0, 0)
	p, _ := r.GetUint(0, 1)
	return mysql.Position{Name: f, Pos: uint32(p)}
}

// workload writes the benchmark's row changes: about 60% inserts, 30%
// updates, 10% deletes, in transactions of txnRows, rows of about 400 bytes
// as JSON; it returns the binlog range they occupy.
func workload() (from, to mysql.Position, n int) {
	rangeFile := filepath.Join(*workDir, "range")
	if !*generateOK {
		b, err := os.ReadFile(rangeFile)
		if err != nil {
			log.Fatal(err)
		}
		var f1, f2 string
		var p1, p2 uint32
		fmt.Sscan(string(b), &f1, &p1, &f2, &p2, &n)
		return mysql.Position{Name: f1, Pos: p1}, mysql.Position{Name: f2, Pos: p2}, n
	}
	c := root()
	defer c.Close()
	createTable(c)
	from = head(c)
	n = generate(c)
	to = head(c)
	_ = os.WriteFile(rangeFile, []byte(fmt.Sprintf("%s %d %s %d %d\n", from.Name, from.Pos, to.Name, to.Pos, n)), 0o644)
	return from, to, n
}

// createTable creates the workload's table, bench.orders, anew.
func createTable(c *client.Conn) {
	must(c.Execute("DROP DATABASE IF EXISTS bench"))
	must(c.Execute("CREATE DATABASE bench"))
	must(c.Execute(`CREATE TABLE bench.orders (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL,
		total DECIMAL(12,2) NOT NULL, placed DATETIME(3) NOT NULL, note VARCHAR(255) NOT NULL, items INT NOT NULL, version INT NOT NULL)`))
}

// generate writes the workload: --changes row changes to bench.orders,
// in transactions of --txn-rows (6 inserts, 3 updates and 1
// delete in 10 once there are rows).
func generate(c *client.Conn) int {
	rng := rand.New(rand.NewPCG(1, 2))
	began := time.Now()
	var live []int
	next := 0
	note := strings.Repeat("lorem ipsum dolor sit amet ", 8)[:200]
	n := 0
	for n < *changes {
		ins, upd, del := *txnRows*6/10, *txnRows*3/10, *txnRows/10
		if len(live) < upd+del {
			ins, upd, del = *txnRows, 0, 0
		}
		must(c.Execute("BEGIN"))
		vals := make([]string, ins)
		for i := range vals {
			next++
			vals[i] = fmt.Sprintf("(%d,'customer-%08d','placed',%d.%02d,'2026-11-25 10:%02d:%02d.%03d','%s',%d,0)", next, rng.IntN(1e8), rng.IntN(1e6), rng.IntN(100), rng.IntN(60), rng.IntN(60), rng.IntN(1000), note, 1+rng.IntN(9))
			live = append(live, next)
		}
		must(c.Execute("INSERT INTO bench.orders VALUES " + strings.Join(vals, ",")))
		if upd > 0 {
			rng.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
			must(c.Execute(fmt.Sprintf("UPDATE bench.orders SET status='paid', version=version+1, total=total+1 WHERE id IN (%s)", ids(live[:upd]))))
			must(c.Execute(fmt.Sprintf("DELETE FROM bench.orders WHERE id IN (%s)", ids(live[upd:upd+del]))))
			live = live[upd+del:]
		}
		must(c.Execute("COMMIT"))
		n += ins + upd + del
	}
	fmt.Printf("generated %d row changes in %s\n", n, time.Since(began).Round(time.Millisecond))
	return n
}

func ids(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

var serverID uint32 = 500

// decodeRun reads the range with BinlogSyncer and counts rows, nothing else.
func decodeRun(from, to mysql.Position, n int) result {
	serverID++
	s := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{ServerID: serverID, Flavor: "mariadb", Host: "127.0.0.1",
		Port: uint16(*dbPort), User: "root", TimestampStringLocation: time.UTC})
	defer s.Close()
	st, err := s.StartSync(from)
	if err != nil {
		log.Fatal(err)
	}
	rows := 0
	var began time.Time
	for rows < n {
		ev, err := st.GetEvent(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		if began.IsZero() {
			began = time.Now()
		}
		if re, ok := ev.Event.(*replication.RowsEvent); ok && string(re.Table.Schema) == "bench" {
			switch ev.Header.EventType {
			case replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2:
				rows += len(re.Rows) / 2
			default:
				rows += len(re.Rows)
			}
		}
	}
	return result{rate: float64(rows) / time.Since(began).Seconds()}
}

type natsProc struct {
	cmd *exec.Cmd
	url string
}

func startNATS(mode string) *natsProc {
	dir, _ := filepath.Abs(filepath.Join(*workDir, "nats-"+mode))
	_ = os.RemoveAll(dir)
	_ = os.MkdirAll(dir, 0o755)
	sync := "2m" // nats-server's default
	if mode == "always" {
		sync = "always"
	}
	port := 20000 + rand.IntN(30000)
	conf := fmt.Sprintf("listen: 127.0.0.1:%d\njetstream { store_dir: %q, sync_interval: %s }\n", port, filepath.Join(dir, "js"), sync)
	_ = os.WriteFile(filepath.Join(dir, "nats.conf"), []byte(conf), 0o644)
	cmd := exec.Command(*natsBin, "-c", filepath.Join(dir, "nats.conf"))
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	p := &natsProc{cmd: cmd, url: fmt.Sprintf("nats://127.0.0.1:%d", port)}
	for range 200 {
		if nc, err := nats.Connect(p.url); err == nil {
			nc.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Fatalf("nats-server at %s did not start", p.url)
	return nil
}

func (p *natsProc) stop() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() }

var streamN int

// How publishRun publishes.
type publishMode int

const (
	publishPlain  publishMode = iota // each message fenced, as tributary appends a large transaction
	publishMsgID                     // the same with a Nats-Msg-Id for the duplicate window
	publishAtomic                    // atomic batches of 1,000, as tributary appends small transactions
)

// atomicBatch is the batch size of publishAtomic: the server's default
// limit, which tributary fills with whole transactions.
const atomicBatch = 1000

// publishRun publishes n messages of an event's size with tributary's
// headers into a stream configured as tributary configures it, async with
// the same in-flight bound, and waits for every acknowledgement.
func publishRun(url string, n int, mode publishMode) result {
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	streamN++
	name := fmt.Sprintf("PUB%d", streamN)
	js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.FileStorage,
		Discard: jetstream.DiscardNew, MaxMsgs: -1, MaxBytes: -1, DenyDelete: true, AllowAtomicPublish: true}); err != nil {
		log.Fatal(err)
	}
	// Bodies of the sizes tributary writes for this workload, in its mix:
	// six inserts (after image), three updates (before and after), one
	// delete (before image) in ten.
	row := func(status string, version int) string {
		return fmt.Sprintf(`{"id":123456,"customer":"customer-00012345","status":%q,"total":"12345.67","placed":"2026-11-25 10:11:12.123","note":"%s","items":3,"version":%d}`, status, strings.Repeat("x", 200), version)
	}
	event := func(typ, op, before, after string) []byte {
		return []byte(`{"specversion":"1.0","id":"bench:0-1-123456:42","source":"/tributary/bench","type":"bench.orders.` + typ + `","subject":"bench.orders.123456","time":"2026-11-25T10:00:00Z","datacontenttype":"application/json","txid":"0-1-123456","gtid":"0-1-123456","binlogfile":"binlog.000001","binlogpos":123456789,"txindex":42,"data":{"op":"` + op + `","key":{"id":123456},"before":` + before + `,"after":` + after + `},"txlast":false}`)
	}
	ins, upd, del := event("created", "c", "null", row("placed", 0)), event("updated", "u", row("placed", 0), row("paid", 1)), event("deleted", "d", row("paid", 1), "null")
	bodies := [10][]byte{ins, ins, ins, ins, ins, ins, upd, upd, upd, del}
	message := func(i int) *nats.Msg {
		last := i%*txnRows == *txnRows-1
		mark := trib.TxnMark{Source: "bench", ID: "0-1-123456", GTID: "0-1-123456", Index: i % *txnRows, Last: last,
			Begin: trib.Position{File: "binlog.000001", Offset: 123456789, GTIDSet: "0-1-123455"}}
		if last {
			mark.End = trib.Position{File: "binlog.000001", Offset: 123498765, GTIDSet: "0-1-123456"}
		}
		m := &nats.Msg{Subject: fmt.Sprintf("%s.bench.orders.%d", name, i), Data: bodies[i%10], Header: eventlog.Headers(mark)}
		return m
	}
	wait := func(f jetstream.PubAckFuture) {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			log.Fatal(err)
		}
	}
	began := time.Now()
	if mode == publishAtomic {
		// Acknowledgements in order, at most 4,096 messages unacknowledged,
		// as tributary's Store does it.
		acks := make(chan jetstream.PubAckFuture, 4096/atomicBatch)
		done := make(chan struct{})
		go func() {
			for f := range acks {
				wait(f)
			}
			close(done)
		}()
		for first := 0; first < n; first += atomicBatch {
			id := nuid.Next()
			size := min(atomicBatch, n-first)
			for j := range size {
				m := message(first + j)
				m.Header["Nats-Batch-Id"] = []string{id}
				m.Header["Nats-Batch-Sequence"] = []string{strconv.Itoa(j + 1)}
				if j == 0 {
					m.Header[jetstream.ExpectedLastSeqHeader] = []string{strconv.Itoa(first)}
				}
				if j < size-1 {
					if err := nc.PublishMsg(m); err != nil {
						log.Fatal(err)
					}
					continue
				}
				m.Header["Nats-Batch-Commit"] = []string{"1"}
				f, err := js.PublishMsgAsync(m, jetstream.WithStallWait(time.Minute))
				if err != nil {
					log.Fatal(err)
				}
				acks <- f
			}
		}
		close(acks)
		<-done
		return result{rate: float64(n) / time.Since(began).Seconds()}
	}
	var last jetstream.PubAckFuture
	for i := range n {
		m := message(i)
		m.Header[jetstream.ExpectedLastSeqHeader] = []string{strconv.Itoa(i)}
		if mode == publishMsgID {
			m.Header[jetstream.MsgIDHeader] = []string{"bench:0-1-" + strconv.Itoa(i/100) + ":" + strconv.Itoa(i%100)}
		}
		if last, err = js.PublishMsgAsync(m, jetstream.WithStallWait(time.Minute)); err != nil {
			log.Fatal(err)
		}
	}
	wait(last)
	<-js.PublishAsyncComplete()
	return result{rate: float64(n) / time.Since(began).Seconds()}
}

// tributaryRun runs the tributary binary over the range into a new stream
// and times it from the first stored event to the last (the stream's own
// timestamps), reading tributary's peak RSS before stopping it.
func tributaryRun(url string, from mysql.Position, n int) result {
	streamN++
	name := fmt.Sprintf("bench%d", streamN)
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	t := startTributary(url, name, 600+streamN, "--from-file", from.Name, "--from-pos", strconv.Itoa(int(from.Pos)))
	t.waitEvents(ctx, nc, uint64(n), 10*time.Minute)
	rss := peakRSS(t.cmd.Process.Pid)
	t.stop()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, t.stream)
	if err != nil {
		log.Fatal(err)
	}
	first, err1 := st.GetMsg(ctx, 1)
	last, err2 := st.GetMsg(ctx, uint64(n))
	if err1 != nil || err2 != nil {
		log.Fatal(err1, err2)
	}
	return result{rate: float64(n-1) / last.Time.Sub(first.Time).Seconds(), rssMiB: rss}
}

// tributaryProc is a tributary start run in the background.
type tributaryProc struct {
	cmd    *exec.Cmd
	stream string
	log    string // its log file, in the work directory
}

// startTributary starts tributary start as name (stream TRIBUTARY_<NAME>)
// on the workload's tables, with extra arguments.
func startTributary(url, name string, serverID int, extra ...string) *tributaryProc {
	args := append([]string{"start", "--source", fmt.Sprintf("mysql://tributary:tributary@127.0.0.1:%d", *dbPort), "--nats", url,
		"--name", name, "--server-id", strconv.Itoa(serverID), "--include", "bench.*", "--log-level", "warn"}, extra...)
	p := &tributaryProc{cmd: exec.Command(*tributary, args...), stream: "TRIBUTARY_" + strings.ToUpper(name), log: filepath.Join(*workDir, name+".log")}
	logf, err := os.Create(p.log)
	if err != nil {
		log.Fatal(err)
	}
	defer logf.Close() // the child has its own
	p.cmd.Stderr = logf
	if err := p.cmd.Start(); err != nil {
		log.Fatal(err)
	}
	return p
}

// waitEvents waits until the stream holds n events.
func (p *tributaryProc) waitEvents(ctx context.Context, nc *nats.Conn, n uint64, d time.Duration) {
	waitUntil(fmt.Sprintf("%d events in %s (see %s)", n, p.stream, p.log), d, func() bool {
		info, err := eventlog.StreamInfo(ctx, nc, p.stream)
		return err == nil && info.Messages >= n
	})
}

// stop interrupts tributary and waits for it to exit.
func (p *tributaryProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	_ = p.cmd.Wait()
}

// waitUntil polls cond until it holds, and gives up after d.
func waitUntil(what string, d time.Duration, cond func() bool) {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			log.Fatalf("gave up after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
