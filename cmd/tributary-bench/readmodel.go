package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tributary-cdc/tributary/eventlog"
)

var (
	pgDSN    = flag.String("pg-dsn", "", "PostgreSQL for the read-model series (r); empty leaves it out")
	mysqlDSN = flag.String("mysql-dsn", "", "MariaDB for the read-model series (r), a database of its own; empty leaves it out")
)

// readModels is series r: a stream written by tributary start from the
// binlog head (so that it has the baseline a read model starts from) while
// the workload is generated once more, then (r0) the bare ordered-consumer
// replay of that stream and (r1…) tributary rebuild of one read model from
// it into each SQL target, side by side.
func readModels(mode string) []string {
	ns := startNATS(mode)
	defer ns.stop()
	const name = "rm"
	stream := "TRIBUTARY_RM"
	cmd := exec.Command(*tributary, "start", "--source", fmt.Sprintf("mysql://tributary:tributary@127.0.0.1:%d", *dbPort),
		"--nats", ns.url, "--name", name, "--server-id", "700", "--include", "bench.*", "--log-level", "warn")
	logf, _ := os.Create(filepath.Join(*workDir, "rm-start.log"))
	cmd.Stderr = logf
	c := root()
	createTable(c)
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	nc, err := nats.Connect(ns.url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	waitUntil("the stream's baseline", func() bool { b, _ := eventlog.ReadBaseline(ctx, nc, stream); return b != nil })
	n := generate(c)
	c.Close()
	waitUntil(fmt.Sprintf("%d events in %s", n, stream), func() bool {
		info, err := eventlog.StreamInfo(ctx, nc, stream)
		return err == nil && info.Messages >= uint64(n)
	})
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	info, err := eventlog.StreamInfo(ctx, nc, stream)
	if err != nil {
		log.Fatal(err)
	}
	events := info.Messages
	fmt.Printf("stream %s: %d events, %.0f MiB\n", stream, events, float64(info.Bytes)/(1<<20))

	replay := measure("(r0) ordered-consumer replay, fsync "+mode, func() result {
		began := time.Now()
		var got uint64
		err := eventlog.Read(ctx, nc, stream, eventlog.ReadOptions{}, func(eventlog.StoredEvent) error { got++; return nil })
		if err != nil || got != events {
			log.Fatalf("replay read %d of %d events: %v", got, events, err)
		}
		return result{rate: float64(got) / time.Since(began).Seconds()}
	})
	rows := []string{fmt.Sprintf("| %s | %d | replay (ordered consumer) | %.0f | — |", mode, events, replay.median)}

	sinks := []string{"  - name: sqlite_rm\n    kind: sqlite\n    path: " + filepath.Join(*workDir, "rm.db")}
	targets := []string{"sqlite_rm"}
	if *pgDSN != "" {
		sinks = append(sinks, "  - name: pg_rm\n    kind: postgres\n    dsn: "+*pgDSN)
		targets = append(targets, "pg_rm")
	}
	if *mysqlDSN != "" {
		sinks = append(sinks, "  - name: mariadb_rm\n    kind: mysql\n    dsn: "+*mysqlDSN)
		targets = append(targets, "mariadb_rm")
	}
	cfg := filepath.Join(*workDir, "rm.yaml")
	yaml := fmt.Sprintf("nats: %s\nstream: %s\nlog_level: warn\nsinks:\n%s\n", ns.url, stream, strings.Join(sinks, "\n"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		log.Fatal(err)
	}
	for _, target := range targets {
		s := measure("(r) tributary rebuild into "+target+", fsync "+mode, func() result { return rebuildRun(cfg, target, events) })
		rows = append(rows, fmt.Sprintf("| %s | %d | rebuild into %s | %.0f | %.0f MiB |", mode, events, strings.TrimSuffix(target, "_rm"), s.median, s.rssMiB))
	}
	return rows
}

// rebuildRun runs tributary rebuild to completion and times it, start-up
// included; the peak RSS is the child's as the kernel reports it.
func rebuildRun(cfg, target string, events uint64) result {
	cmd := exec.Command(*tributary, "rebuild", "--config", cfg, "--sink", target)
	out, _ := os.Create(filepath.Join(*workDir, "rebuild-"+target+".log"))
	defer out.Close()
	cmd.Stderr = out
	began := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("tributary rebuild --sink %s: %v (see %s)", target, err, out.Name())
	}
	elapsed := time.Since(began)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return result{rate: float64(events) / elapsed.Seconds(), rssMiB: float64(ru.Maxrss) / 1024}
}

func waitUntil(what string, cond func() bool) {
	deadline := time.Now().Add(15 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			log.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
