package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/tributary-cdc/tributary/eventlog"
)

func newTailCommand() *cobra.Command {
	c := defaultConfig()
	var configPath, from, subject string
	var follow, inline bool
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print stored events as JSON lines, exactly as stored",
		Long: `tail prints the stream's events in stream order, one CloudEvents JSON object
per line, exactly as stored, through an ordered consumer. Without --follow
it stops after the last event stored when it started.

--from is first (default), last, a stream sequence, or an RFC 3339 time
(the time NATS stored the event).

--inline prints events whose large values were moved to the object store
(data.external, see docs/EVENTS.md) as they would have been: each value
fetched and put back, data.external removed.`,
		Example: `  tributary tail --nats nats://127.0.0.1:4222 --stream TRIBUTARY_SHOP
  tributary tail --stream TRIBUTARY_SHOP --from 2026-11-25T10:00:00Z --follow
  tributary tail --stream TRIBUTARY_SHOP --subject 'tributary.shop.shop.orders.>' | jq .data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.load(cmd, configPath); err != nil {
				return err
			}
			if err := c.validate(false); err != nil {
				return err
			}
			if c.Stream == "" {
				return usageError("stream: required, e.g. --stream TRIBUTARY_SHOP (start logs the name it uses)")
			}
			start, err := parseFrom(from)
			if err != nil {
				return err
			}
			log := newLogger(&c)
			tuneGC(false)
			nc, err := dialNATS(&c, log)
			if err != nil {
				return err
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				return err
			}
			inliner := eventlog.NewInliner(js)
			w := bufio.NewWriterSize(os.Stdout, 64<<10)
			defer w.Flush()
			return eventlog.Read(cmd.Context(), nc, c.Stream, eventlog.ReadOptions{From: start, Follow: follow, Filter: subject},
				func(ev eventlog.StoredEvent) error {
					body := ev.Body
					if inline {
						if body, err = inliner.Inline(cmd.Context(), body); err != nil {
							return fmt.Errorf("event at stream sequence %d: %w", ev.Seq, err)
						}
					}
					w.Write(body)
					if err := w.WriteByte('\n'); err != nil {
						return err
					}
					if follow {
						return w.Flush()
					}
					return nil
				})
		},
	}
	fs := cmd.Flags()
	commonFlags(fs, &c, &configPath)
	natsFlags(fs, &c)
	fs.StringVar(&from, "from", "first", "first, last, a stream sequence, or an RFC 3339 time")
	fs.BoolVar(&follow, "follow", false, "keep printing new events until interrupted")
	fs.StringVar(&subject, "subject", "", "only events whose subject matches this filter")
	fs.BoolVar(&inline, "inline", false, "put values stored in the object store back into the events")
	return cmd
}

func parseFrom(s string) (eventlog.From, error) {
	switch s {
	case "", "first":
		return eventlog.From{}, nil
	case "last":
		return eventlog.From{Last: true}, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil && n > 0 {
		return eventlog.From{Seq: n}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return eventlog.From{Time: t}, nil
	}
	return eventlog.From{}, usageError("from %q: want first, last, a stream sequence (1 or more) or an RFC 3339 time like 2026-11-25T10:00:00Z", s)
}
