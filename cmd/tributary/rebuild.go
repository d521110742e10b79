package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tributary-cdc/tributary/sink"
)

var stderr = os.Stderr

func newRebuildCommand() *cobra.Command {
	c := defaultConfig()
	var configPath, name, asOf, asOfGTID string
	var asOfSeq uint64
	cmd := &cobra.Command{
		Use:   "rebuild",
		Short: "Rebuild a read model from the first event, or as of a past point",
		Long: `rebuild builds one read model again from the stream's first event, into
shadow tables (a shadow bucket for kv) beside the live ones, and then swaps
them in at once: readers of the live read model see it as it was until the
swap and as rebuilt after it, never empty, never half built.

Without --as-of it reads until it has caught up with the stream, and a
running projection carries on from the swap. With one of the --as-of flags it
stops at that point, and the read model stays there (project leaves it
alone) until it is rebuilt without one:

  --as-of TIME      every transaction committed on the source at or before
                    TIME (RFC 3339; the commit time the events carry, not the
                    time NATS stored them; MariaDB gives whole seconds)
  --as-of-seq N     every transaction that begins at or before stream
                    sequence N (a transaction is never cut)
  --as-of-gtid GTID every transaction up to and including GTID

On a terminal it shows a progress bar with events/s and ETA; otherwise it
logs a progress line every 5 seconds.`,
		Example: `  tributary rebuild --config tributary.yaml --sink orders_pg
  tributary rebuild --config tributary.yaml --sink orders_pg --as-of 2026-11-24T10:00:00Z
  tributary rebuild --config tributary.yaml --sink audit --as-of-gtid 0-1-4711`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usageError("--sink: required, the name of the sink to rebuild")
			}
			until, err := parseUntil(asOf, asOfSeq, asOfGTID)
			if err != nil {
				return err
			}
			sinks, err := loadSinkCommand(cmd, &c, configPath, []string{name})
			if err != nil {
				return err
			}
			s := sinks[0]
			log := newLogger(&c)
			tuneGC(false)
			nc, err := dialNATS(&c, log)
			if err != nil {
				return err
			}
			defer nc.Close()
			ctx := cmd.Context()
			keys, err := streamKeys(ctx, &c, nc)
			if err != nil {
				return err
			}
			tg, err := openTarget(ctx, &c, s, nc)
			if err != nil {
				return err
			}
			defer tg.Close()
			r := newRunner(&c, s, nc, tg, keys, log)
			fi, _ := stderr.Stat()
			p := &progressPrinter{terminal: fi != nil && fi.Mode()&os.ModeCharDevice != 0, name: s.Name, log: log.Info}
			started := time.Now()
			cp, err := r.Rebuild(ctx, until, p.show)
			p.done()
			if err != nil {
				return fmt.Errorf("rebuild sink %s: %w", s.Name, err)
			}
			log.Info("rebuilt and swapped in", "sink", s.Name, "seq", cp.Seq, "txid", cp.TxID, "as_of", cp.AsOf,
				"tables", len(cp.Tables), "seconds", time.Since(started).Round(time.Millisecond).Seconds())
			return nil
		},
	}
	fs := cmd.Flags()
	commonFlags(fs, &c, &configPath)
	natsFlags(fs, &c)
	fs.StringVar(&name, "sink", "", "the sink to rebuild (required)")
	fs.StringVar(&asOf, "as-of", "", "rebuild as of this source commit time (RFC 3339)")
	fs.Uint64Var(&asOfSeq, "as-of-seq", 0, "rebuild as of this stream sequence")
	fs.StringVar(&asOfGTID, "as-of-gtid", "", "rebuild as of this GTID")
	return cmd
}

func parseUntil(asOf string, seq uint64, gtid string) (sink.Until, error) {
	n := 0
	for _, set := range []bool{asOf != "", seq > 0, gtid != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return sink.Until{}, usageError("--as-of, --as-of-seq and --as-of-gtid: give one at most")
	}
	u := sink.Until{Seq: seq, GTID: gtid}
	if asOf != "" {
		t, err := time.Parse(time.RFC3339Nano, asOf)
		if err != nil {
			return sink.Until{}, usageError("--as-of %q: want an RFC 3339 time like 2026-11-25T10:00:00Z", asOf)
		}
		u.Time = t
	}
	return u, nil
}

// progressPrinter shows a rebuild's progress: a bar redrawn in place on a
// terminal, a log line every few seconds otherwise.
type progressPrinter struct {
	terminal bool
	name     string
	last     time.Time
	log      func(msg string, args ...any)
}

func (p *progressPrinter) show(pr sink.Progress) {
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Applied) / s
	}
	var eta time.Duration
	if pr.Last > pr.Seq && rate > 0 {
		eta = time.Duration(float64(pr.Last-pr.Seq) / rate * float64(time.Second)).Round(time.Second)
	}
	frac := 1.0
	if pr.Last > 0 {
		frac = min(1, float64(pr.Seq)/float64(pr.Last))
	}
	if !p.terminal {
		if time.Since(p.last) < 5*time.Second && pr.Seq < pr.Last {
			return
		}
		p.last = time.Now()
		p.log("rebuilding", "sink", p.name, "seq", pr.Seq, "of", pr.Last, "events_per_second", int(rate), "eta", eta.String())
		return
	}
	const width = 30
	done := int(frac * width)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < done {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(stderr, "\r%s [%s] %3.0f%%  %d/%d events  %.0f events/s  ETA %s   ", p.name, bar, frac*100, pr.Seq, pr.Last, rate, eta)
}

func (p *progressPrinter) done() {
	if p.terminal {
		fmt.Fprintln(stderr)
	}
}
