package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"gopkg.in/yaml.v3"

	"github.com/tributary-cdc/tributary/eventlog"
)

var (
	pgDSN    = flag.String("pg-dsn", "", "PostgreSQL for the read-model series (r); empty leaves it out")
	mysqlDSN = flag.String("mysql-dsn", "", "MariaDB for the read-model series (r): a server of its own, as a read model has; empty leaves it out")
	// The source's server logs every row the read model writes, with full
	// images, to its binary log: a cost a read model's own server does not
	// have, measured beside it.
	mysqlSourceDSN = flag.String("mysql-source-dsn", "", "MariaDB for the read-model series (r): a database in the source's own server, binary log on; empty leaves it out")
)

// readModels is series r: a stream written by tributary start from the
// binlog head (so that it has the baseline a read model starts from) while
// the workload is generated once more, then (r0) the bare ordered-consumer
// replay of that stream and (r1…) tributary rebuild of one read model from
// it into each SQL target, side by side.
func readModels(mode string) []string {
	ns := startNATS(mode)
	defer ns.stop()
	nc, err := nats.Connect(ns.url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	c := root()
	createTable(c)
	t := startTributary(ns.url, "rm", 700)
	waitUntil("the baseline of "+t.stream+" (see "+t.log+")", 15*time.Minute, func() bool {
		b, _ := eventlog.ReadBaseline(ctx, nc, t.stream)
		return b != nil
	})
	n := generate(c)
	c.Close()
	t.waitEvents(ctx, nc, uint64(n), 15*time.Minute)
	t.stop()
	stream := t.stream
	info, err := eventlog.StreamInfo(ctx, nc, stream)
	if err != nil {
		log.Fatal(err)
	}
	events := info.Messages
	fmt.Printf("stream %s: %d events, %.0f MiB\n", stream, events, float64(info.Bytes)/(1<<20))

	// The replay is measured twice: with Go's default GC, and with the
	// settings tributary's read-side commands run with
	// (cmd/tributary/gc.go: GOGC=400, a soft limit of 150 MiB). Each
	// message from NATS is a fresh allocation, so the GC sets the pace.
	var rows []string
	for _, gc := range []struct {
		name           string
		percent, limit int64
	}{{"Go's default GC", 100, math.MaxInt64}, {"tributary's GC settings", 400, 150 << 20}} {
		debug.SetGCPercent(int(gc.percent))
		debug.SetMemoryLimit(gc.limit)
		replay := measure("(r0) ordered-consumer replay, "+gc.name+", fsync "+mode, func() result {
			began := time.Now()
			var got uint64
			err := eventlog.Read(ctx, nc, stream, eventlog.ReadOptions{}, func(eventlog.StoredEvent) error { got++; return nil })
			if err != nil || got != events {
				log.Fatalf("replay read %d of %d events: %v", got, events, err)
			}
			return result{rate: float64(got) / time.Since(began).Seconds()}
		})
		rows = append(rows, fmt.Sprintf("| %s | %d | replay (ordered consumer), %s | %.0f | — |", mode, events, gc.name, replay.median))
	}
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)

	// One read model of the workload's table per SQL target.
	type sink struct {
		Name  string `yaml:"name"`
		Kind  string `yaml:"kind"`
		Path  string `yaml:"path,omitempty"`
		DSN   string `yaml:"dsn,omitempty"`
		label string // in the results table
	}
	sinks := []sink{{Name: "sqlite_rm", Kind: "sqlite", Path: filepath.Join(*workDir, "rm.db"), label: "SQLite"}}
	if *pgDSN != "" {
		sinks = append(sinks, sink{Name: "pg_rm", Kind: "postgres", DSN: *pgDSN, label: "PostgreSQL"})
	}
	if *mysqlDSN != "" {
		sinks = append(sinks, sink{Name: "mariadb_rm", Kind: "mysql", DSN: *mysqlDSN, label: "MariaDB"})
	}
	if *mysqlSourceDSN != "" {
		sinks = append(sinks, sink{Name: "mariadb_source_rm", Kind: "mysql", DSN: *mysqlSourceDSN, label: "MariaDB, the source's server (binary log on)"})
	}
	b, err := yaml.Marshal(struct {
		NATS     string `yaml:"nats"`
		Stream   string `yaml:"stream"`
		LogLevel string `yaml:"log_level"`
		Sinks    []sink `yaml:"sinks"`
	}{ns.url, stream, "warn", sinks})
	if err != nil {
		log.Fatal(err)
	}
	cfg := filepath.Join(*workDir, "rm.yaml")
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		log.Fatal(err)
	}
	for _, sk := range sinks {
		s := measure("(r) tributary rebuild into "+sk.Name+", fsync "+mode, func() result { return rebuildRun(cfg, sk.Name, events) })
		rows = append(rows, fmt.Sprintf("| %s | %d | rebuild into %s | %.0f | %.0f MiB |", mode, events, sk.label, s.median, s.rssMiB))
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
