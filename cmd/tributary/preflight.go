package main

import (
	"context"
	"fmt"
	"io"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/nats-io/nats.go"

	"github.com/tributary-cdc/tributary"
	"github.com/tributary-cdc/tributary/binlog"
	"github.com/tributary-cdc/tributary/eventlog"
)

// sourceConn is an open connection to the configured source.
type sourceConn struct {
	src  binlog.Source
	conn *client.Conn
	srv  binlog.Server
}

func openSource(ctx context.Context, c *Config) (*sourceConn, error) {
	src, err := binlog.ParseSource(c.Source)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if pw, ok, err := c.sourcePassword(); err != nil {
		return nil, err
	} else if ok {
		src.Password = pw
	}
	conn, err := src.Connect(ctx)
	if err != nil {
		return nil, err
	}
	srv, err := binlog.Describe(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &sourceConn{src: src, conn: conn, srv: srv}, nil
}

// checkSource runs the source preflight and prints each finding.
func checkSource(ctx context.Context, sc *sourceConn, c *Config, w io.Writer) (failed int, err error) {
	findings, err := binlog.Check(ctx, sc.conn, sc.srv, sc.src.User, c.ServerID)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "source %s: %s %s\n", sc.src, sc.srv.Flavor, sc.srv.Version)
	failed = printFindings(w, findings)
	keysFailed, err := checkKeys(sc, c, w)
	return failed + keysFailed, err
}

// checkKeys checks the configured key columns (if any) against the source
// and prints the finding.
func checkKeys(sc *sourceConn, c *Config, w io.Writer) (failed int, err error) {
	keys, err := c.keys()
	if err != nil || len(keys) == 0 {
		return 0, err // validate has rejected keys that do not parse
	}
	f, err := binlog.CheckKeys(sc.conn, keys)
	if err != nil {
		return 0, err
	}
	return printFindings(w, []binlog.Finding{f}), nil
}

// printFindings prints findings and counts those that failed.
func printFindings(w io.Writer, findings []binlog.Finding) (failed int) {
	for _, f := range findings {
		printFinding(w, f)
		if !f.OK {
			failed++
		}
	}
	return failed
}

// checkNATS checks the connection and JetStream.
func checkNATS(ctx context.Context, nc *nats.Conn, w io.Writer) int {
	f := binlog.Finding{Check: "jetstream"}
	if err := eventlog.CheckServer(ctx, nc); err != nil {
		f.Got = err.Error()
		f.Fix = "start nats-server with JetStream enabled (-js)"
		printFinding(w, f)
		return 1
	}
	f.OK = true
	v := nc.ConnectedServerVersion()
	f.Got = "nats-server " + v + " at " + nc.ConnectedUrlRedacted()
	if !eventlog.Supported(v) {
		f.OK = false
		f.Fix = "upgrade nats-server to 2.10 or later (2.12+ recommended: it stores each transaction atomically)"
		printFinding(w, f)
		return 1
	}
	if !eventlog.SupportsAtomic(v) {
		f.Warn = true
		f.Fix = "nats-server 2.12+ stores each transaction atomically; older servers get transaction boundaries only (upgrade recommended)"
	}
	printFinding(w, f)
	return 0
}

func printFinding(w io.Writer, f binlog.Finding) {
	mark := "ok  "
	switch {
	case !f.OK:
		mark = "FAIL"
	case f.Warn:
		mark = "warn"
	}
	fmt.Fprintf(w, "  %s %-26s %s\n", mark, f.Check, f.Got)
	if f.Fix != "" && (!f.OK || f.Warn) {
		fmt.Fprintf(w, "       fix: %s\n", f.Fix)
	}
}

func preflightError(failed int) error {
	return fmt.Errorf("%w: %d check(s) failed; nothing was written (see the fixes above, then run tributary check)", tributary.ErrPreflight, failed)
}
