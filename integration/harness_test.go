package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/nats-io/nats.go"
	"gopkg.in/yaml.v3"
)

var (
	repoRoot      string
	tributaryBin  string
	natsServerBin string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	bin, err := os.MkdirTemp("", "tributary-it-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	tributaryBin = filepath.Join(bin, "tributary")
	natsServerBin = filepath.Join(bin, "nats-server")
	for _, b := range [][2]string{{tributaryBin, "./cmd/tributary"}, {natsServerBin, "github.com/nats-io/nats-server/v2"}} {
		cmd := exec.Command("go", "build", "-o", b[0], b[1])
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b[1], err, out)
			return 1
		}
	}
	return m.Run()
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// shortTempDir is a temporary directory with a short path: unix socket
// paths must stay under 108 bytes.
func shortTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// mariaDB is a private MariaDB instance run by scripts/mariadb-sandbox.sh.
type mariaDB struct {
	t     testing.TB
	dir   string
	port  int
	extra string // MARIADB_SANDBOX_EXTRA_ARGS
}

func startMariaDB(t testing.TB, extraArgs ...string) *mariaDB {
	t.Helper()
	db := &mariaDB{t: t, dir: filepath.Join(shortTempDir(t, "tm-"), "db"), extra: strings.Join(extraArgs, " ")}
	db.start()
	t.Cleanup(func() { db.script("stop") })
	return db
}

func (db *mariaDB) script(args ...string) string {
	db.t.Helper()
	return runScript(db.t, []string{"MARIADB_SANDBOX_EXTRA_ARGS=" + db.extra}, "mariadb-sandbox.sh", append([]string{args[0], db.dir}, args[1:]...)...)
}

// runScript runs scripts/name with args (and env added to the environment)
// and returns what it printed on stdout; it fails the test with what the
// script said on stderr if it fails.
func runScript(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", name), args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, args[0], err, stderr.String())
	}
	return string(out)
}

// envValue is the value of key in the KEY=VALUE lines a sandbox script
// prints ("" if there is none); the scripts quote none of the values read
// here.
func envValue(out, key string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	return ""
}

// sqlScript runs a script of statements as root, with the mariadb client.
func (db *mariaDB) sqlScript(script string) {
	db.t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "mariadb-sandbox.sh"), "sql", db.dir)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		db.t.Fatalf("mariadb-sandbox.sh sql: %v\n%s", err, out)
	}
}

func (db *mariaDB) start() {
	db.t.Helper()
	args := []string{"start"}
	if db.port != 0 {
		args = append(args, strconv.Itoa(db.port))
	}
	out := db.script(args...)
	db.port, _ = strconv.Atoi(envValue(out, "MARIADB_PORT"))
	if db.port == 0 {
		db.t.Fatalf("mariadb-sandbox.sh start printed no port:\n%s", out)
	}
}

func (db *mariaDB) restart() { db.script("stop"); db.start() }
func (db *mariaDB) kill()    { db.script("kill") }

func (db *mariaDB) sourceURL() string {
	return fmt.Sprintf("mysql://tributary:tributary@127.0.0.1:%d", db.port)
}

// root opens a root connection over TCP.
func (db *mariaDB) root() *client.Conn {
	db.t.Helper()
	conn, err := client.Connect(fmt.Sprintf("127.0.0.1:%d", db.port), "root", "", "")
	if err != nil {
		db.t.Fatalf("connect to MariaDB as root: %v", err)
	}
	db.t.Cleanup(func() { conn.Close() })
	return conn
}

// exec runs statements as root and fails the test on error.
func (db *mariaDB) exec(stmts ...string) {
	db.t.Helper()
	conn := db.root()
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.Execute(s); err != nil {
			db.t.Fatalf("%s: %v", s, err)
		}
	}
}

// natsServer is a real nats-server process with JetStream, fsync always.
type natsServer struct {
	t    testing.TB
	dir  string
	port int
	cmd  *exec.Cmd
}

func startNATS(t testing.TB) *natsServer {
	return startNATSSync(t, "always")
}

// startNATSSync starts nats-server with the given JetStream sync_interval
// ("always", or a duration such as "2m", its default).
func startNATSSync(t testing.TB, sync string) *natsServer {
	t.Helper()
	ns := &natsServer{t: t, dir: shortTempDir(t, "tn-"), port: freePort(t)}
	conf := fmt.Sprintf("listen: 127.0.0.1:%d\njetstream {\n  store_dir: %q\n  sync_interval: %s\n}\n", ns.port, filepath.Join(ns.dir, "js"), sync)
	if err := os.WriteFile(filepath.Join(ns.dir, "nats.conf"), []byte(conf), 0o644); err != nil {
		t.Fatalf("write nats.conf: %v", err)
	}
	ns.start()
	t.Cleanup(ns.stop)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("TRIBUTARY_TEST_NATS_LOG") != "" {
			ns.reportLog()
		}
	})
	return ns
}

// reportLog prints what nats-server logged about restarts and batches, to
// explain a failure.
func (ns *natsServer) reportLog() {
	b, err := os.ReadFile(filepath.Join(ns.dir, "nats.log"))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "atch") || strings.Contains(line, "Restored") || strings.Contains(line, "[ERR]") || strings.Contains(line, "[WRN]") {
			ns.t.Log("nats-server: " + line)
		}
	}
}

func (ns *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", ns.port) }

func (ns *natsServer) start() {
	ns.t.Helper()
	log, err := os.OpenFile(filepath.Join(ns.dir, "nats.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		ns.t.Fatalf("open nats log: %v", err)
	}
	ns.cmd = exec.Command(natsServerBin, "-c", filepath.Join(ns.dir, "nats.conf"))
	ns.cmd.Stdout, ns.cmd.Stderr = log, log
	if err := ns.cmd.Start(); err != nil {
		ns.t.Fatalf("start nats-server: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, err := nats.Connect(ns.url(), nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
			return
		}
		if time.Now().After(deadline) {
			ns.t.Fatalf("nats-server did not accept connections within 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (ns *natsServer) kill() {
	if ns.cmd == nil || ns.cmd.Process == nil {
		return
	}
	_ = ns.cmd.Process.Kill()
	_ = ns.cmd.Wait()
	ns.cmd = nil
}

func (ns *natsServer) stop() {
	if ns.cmd == nil || ns.cmd.Process == nil {
		return
	}
	_ = ns.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = ns.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = ns.cmd.Process.Kill()
		<-done
	}
	ns.cmd = nil
}

func (ns *natsServer) connect() *nats.Conn {
	ns.t.Helper()
	nc, err := nats.Connect(ns.url())
	if err != nil {
		ns.t.Fatalf("connect to nats-server: %v", err)
	}
	ns.t.Cleanup(nc.Close)
	return nc
}

// proc is a running tributary command.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stderr *syncBuffer
	stdout *syncBuffer
	done   chan struct{}
	code   int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTributary runs the binary with args in the background.
func startTributary(t testing.TB, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, stderr: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(tributaryBin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.Env = append(os.Environ(), "TRIBUTARY_LOG_LEVEL=info")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start tributary: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// waitStreaming waits until tributary reads the binlog, and fails with its
// log if it stops first or takes more than 30 seconds.
func (p *proc) waitStreaming() {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stderr.String(), "binlog stream started") {
		if p.exited() || time.Now().After(deadline) {
			p.t.Fatalf("tributary is not streaming the binlog (exited: %v); log:\n%s", p.exited(), p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runTributary runs the binary to completion and returns its exit code and
// output.
func runTributary(t testing.TB, timeout time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	p := startTributary(t, args...)
	if !p.wait(timeout) {
		p.kill()
		t.Fatalf("tributary %s did not finish within %s\nstderr:\n%s", strings.Join(args, " "), timeout, p.stderr)
	}
	return p.code, p.stdout.String(), p.stderr.String()
}

func (p *proc) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() int {
	p.t.Helper()
	// A signal that arrives before the Go runtime has run main (and so
	// before tributary handles signals) kills the process outright; by its
	// first line of output it is handling them.
	waitFor(p.t, 30*time.Second, "tributary's first output", func() bool { return p.stderr.String() != "" || p.exited() })
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.wait(60 * time.Second) {
		p.kill()
		p.t.Fatalf("tributary did not stop within 60s after SIGTERM\nstderr:\n%s", p.stderr)
	}
	return p.code
}

// tailAll reads every stored event with tributary tail, as a user would.
func tailAll(t testing.TB, natsURL, stream string) [][]byte {
	t.Helper()
	code, out, errOut := runTributary(t, 5*time.Minute, "tail", "--nats", natsURL, "--stream", stream)
	if code != 0 {
		t.Fatalf("tributary tail exited %d:\n%s", code, errOut)
	}
	var lines [][]byte
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	return lines
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitForEvents waits until the stream holds n events, and fails with what
// tributary said if it does not within a minute, or holds more.
func waitForEvents(t *testing.T, p *proc, nc *nats.Conn, stream string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for have := streamMsgs(t, nc, stream); have != uint64(n); have = streamMsgs(t, nc, stream) {
		if have > uint64(n) || time.Now().After(deadline) || p.exited() {
			t.Fatalf("the stream holds %d events, want %d; tributary's log:\n%s", have, n, p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// streamMsgs returns how many messages a stream holds (0 if it does not
// exist).
func streamMsgs(t testing.TB, nc *nats.Conn, stream string) uint64 {
	t.Helper()
	return streamState(nc, stream).Msgs
}

// streamLastSeq returns the sequence of a stream's last message (0 if it
// does not exist): where a read model that applied everything has its
// checkpoint.
func streamLastSeq(t testing.TB, nc *nats.Conn, stream string) uint64 {
	t.Helper()
	return streamState(nc, stream).LastSeq
}

func streamState(nc *nats.Conn, stream string) nats.StreamState {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js, _ := nc.JetStream(nats.Context(ctx))
	si, err := js.StreamInfo(stream)
	if err != nil {
		return nats.StreamState{}
	}
	return si.State
}

// sinkConfig is a read model in a config file (cmd/tributary's SinkConfig).
type sinkConfig struct {
	Name   string   `yaml:"name"`
	Kind   string   `yaml:"kind,omitempty"`
	DSN    string   `yaml:"dsn,omitempty"`
	Path   string   `yaml:"path,omitempty"`
	Tables []string `yaml:"tables,omitempty"`
	Batch  int      `yaml:"batch,omitempty"`
}

// writeConfig writes the config file that project and rebuild read: the
// NATS server, the stream, and the sinks. It returns the file's path.
func writeConfig(t testing.TB, natsURL, stream string, sinks ...sinkConfig) string {
	t.Helper()
	b, err := yaml.Marshal(struct {
		NATS   string       `yaml:"nats"`
		Stream string       `yaml:"stream"`
		Sinks  []sinkConfig `yaml:"sinks"`
	}{natsURL, stream, sinks})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	path := filepath.Join(t.TempDir(), "tributary.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return path
}

// rowsAsStrings reads a query's rows with every value as a string (NULL as
// nil), for comparing with decoded events.
func rowsAsStrings(t testing.TB, conn *client.Conn, query string) []map[string]*string {
	t.Helper()
	r, err := conn.Execute(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var out []map[string]*string
	for i := range r.RowNumber() {
		row := map[string]*string{}
		for name, j := range r.FieldNames {
			v, _ := r.GetValue(i, j)
			if v == nil {
				row[name] = nil
				continue
			}
			s, err := r.GetString(i, j)
			if err != nil {
				t.Fatalf("%s: column %s: %v", query, name, err)
			}
			row[name] = &s
		}
		out = append(out, row)
	}
	return out
}
