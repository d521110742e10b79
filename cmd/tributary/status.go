package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tributary-cdc/tributary"
	"github.com/tributary-cdc/tributary/binlog"
	"github.com/tributary-cdc/tributary/eventlog"
)

// Status is what tributary status reports; its JSON form (--json) is for
// machines and keeps these field names.
type Status struct {
	Source     string         `json:"source,omitempty"`
	Flavor     string         `json:"flavor,omitempty"`
	BinlogHead *positionJSON  `json:"binlog_head,omitempty"`
	Stream     *streamJSON    `json:"stream"`
	LastEvent  *lastEventJSON `json:"last_event,omitempty"`
	// LagEvents counts row events committed on the source but not yet in
	// the stream; LagComplete is false if counting was cut short.
	LagEvents   *int64   `json:"lag_events,omitempty"`
	LagComplete bool     `json:"lag_complete"`
	LagSeconds  *float64 `json:"lag_seconds,omitempty"`
}

type positionJSON struct {
	File    string `json:"file,omitempty"`
	Offset  uint64 `json:"offset,omitempty"`
	GTIDSet string `json:"gtid_set,omitempty"`
}

type streamJSON struct {
	Name     string    `json:"name"`
	Messages uint64    `json:"messages"`
	Bytes    uint64    `json:"bytes"`
	FirstSeq uint64    `json:"first_seq"`
	LastSeq  uint64    `json:"last_seq"`
	LastTime time.Time `json:"last_stored,omitzero"`
	// Values is the object store holding the stream's large values, if
	// any value has needed it.
	Values *valuesJSON `json:"values,omitempty"`
}

type valuesJSON struct {
	Bucket string `json:"bucket"`
	Bytes  uint64 `json:"bytes"`
}

type lastEventJSON struct {
	Seq        uint64        `json:"seq"`
	ID         string        `json:"id"`
	Txn        string        `json:"txn"`
	Row        int           `json:"row"`
	TxnLast    bool          `json:"txn_last"`
	Committed  time.Time     `json:"committed"`
	ResumeFrom *positionJSON `json:"resume_from"`
	ResumeSkip int           `json:"resume_skip"`
}

func toPositionJSON(p tributary.Position) *positionJSON {
	return &positionJSON{File: p.File, Offset: p.Offset, GTIDSet: p.GTIDSet}
}

// lagCountLimit bounds how long status reads the binlog to count lag.
const lagCountLimit = 10 * time.Second

func newStatusCommand() *cobra.Command {
	c := defaultConfig()
	var configPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the binlog head, the last stored event, lag and the stream's size",
		Long: `status prints the source's binlog head, the last event stored in the stream
and where resuming would continue, the lag in events and seconds (it counts
the row events between the two by reading the binlog, for at most 10 s),
and the stream's size. Without --source it reports the stream only.`,
		Example: `  tributary status --source mysql://tributary:secret@127.0.0.1:3306 --stream TRIBUTARY_SHOP
  tributary status --config tributary.yaml --json | jq .lag_seconds`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.load(cmd, configPath); err != nil {
				return err
			}
			if err := c.validate(false); err != nil {
				return err
			}
			st, err := collectStatus(cmd.Context(), &c)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printStatus(os.Stdout, st)
			return nil
		},
	}
	fs := cmd.Flags()
	commonFlags(fs, &c, &configPath)
	sourceFlags(fs, &c)
	natsFlags(fs, &c)
	fs.StringVar(&c.Include, "include", c.Include, "tables counted for lag (default: those of the pipeline writing the stream)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func collectStatus(ctx context.Context, c *Config) (*Status, error) {
	st := &Status{}
	var sc *sourceConn
	if c.Source != "" {
		var err error
		if sc, err = openSource(ctx, c); err != nil {
			return nil, err
		}
		defer sc.conn.Close()
		c.deriveNames(sc.srv.Hostname, sc.srv.Port)
		st.Source, st.Flavor = sc.src.String(), sc.srv.Flavor+" "+sc.srv.Version
	}
	if c.Stream == "" {
		return nil, usageError("stream: required without --source, e.g. --stream TRIBUTARY_SHOP")
	}
	log := newLogger(c)
	nc, err := dialNATS(c, log)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	info, err := eventlog.StreamStatus(ctx, nc, c.Stream)
	if err != nil {
		return nil, err
	}
	if c.Include == "" {
		c.Include = info.Metadata["include"] // as the pipeline writing the stream has it
	}
	st.Stream = &streamJSON{Name: info.Stream, Messages: info.Messages, Bytes: info.Bytes, FirstSeq: info.FirstSeq, LastSeq: info.LastSeq, LastTime: info.LastTime}
	if v := info.Values; v != nil {
		st.Stream.Values = &valuesJSON{Bucket: v.Bucket, Bytes: v.Bytes}
	}
	var start binlog.Start
	found := info.Last != nil
	if found {
		last := info.Last
		var body struct {
			ID   string    `json:"id"`
			Time time.Time `json:"time"`
		}
		_ = json.Unmarshal(last.Body, &body)
		from, skip := last.Mark.Resume()
		st.LastEvent = &lastEventJSON{Seq: last.Seq, ID: body.ID, Txn: last.Mark.ID, Row: last.Mark.Index, TxnLast: last.Mark.Last,
			Committed: body.Time, ResumeFrom: toPositionJSON(from), ResumeSkip: skip}
		start = binlog.ResumeAfter(last.Mark)
	}
	if sc == nil {
		return st, nil
	}
	head, err := binlog.Head(sc.conn, sc.srv)
	if err != nil {
		return nil, err
	}
	st.BinlogHead = toPositionJSON(head)
	if !found {
		return st, nil
	}
	// Count what lies between the last stored event and the head, with a
	// replica id of its own so as not to displace the running pipeline.
	var n int64
	var oldest time.Time
	countCtx, cancel := context.WithTimeout(ctx, lagCountLimit)
	defer cancel()
	t := binlog.NewTailer(binlog.Options{Source: sc.src, ServerID: c.ServerID ^ 0x40000000, Name: c.Name, Prefix: c.Prefix,
		Include: c.includes(), StopAt: head})
	err = t.Run(countCtx, start, func(_ context.Context, b tributary.Batch) error {
		if n == 0 && len(b.Events) > 0 {
			oldest = b.Events[0].Time
		}
		n += int64(len(b.Events))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count lag: %w", err)
	}
	st.LagEvents = &n
	st.LagComplete = countCtx.Err() == nil
	lag := 0.0
	if n > 0 {
		lag = time.Since(oldest).Seconds()
	}
	st.LagSeconds = &lag
	return st, nil
}

func printStatus(w io.Writer, st *Status) {
	if st.Source != "" {
		fmt.Fprintf(w, "source:       %s (%s)\n", st.Source, st.Flavor)
	}
	if h := st.BinlogHead; h != nil {
		fmt.Fprintf(w, "binlog head:  %s\n", tributary.Position{File: h.File, Offset: h.Offset, GTIDSet: h.GTIDSet})
	}
	s := st.Stream
	fmt.Fprintf(w, "stream:       %s, %d events, %s", s.Name, s.Messages, humanBytes(s.Bytes))
	if s.Messages > 0 {
		fmt.Fprintf(w, ", sequences %d-%d", s.FirstSeq, s.LastSeq)
	}
	fmt.Fprintln(w)
	if v := s.Values; v != nil {
		fmt.Fprintf(w, "large values: %s, %s (object store)\n", v.Bucket, humanBytes(v.Bytes))
	}
	if e := st.LastEvent; e != nil {
		fmt.Fprintf(w, "last event:   sequence %d, %s (transaction %s row %d, last in transaction: %v), committed %s\n",
			e.Seq, e.ID, e.Txn, e.Row, e.TxnLast, e.Committed.Format(time.RFC3339))
		r := e.ResumeFrom
		fmt.Fprintf(w, "resumes at:   %s", tributary.Position{File: r.File, Offset: r.Offset, GTIDSet: r.GTIDSet})
		if e.ResumeSkip > 0 {
			fmt.Fprintf(w, ", skipping %d stored rows", e.ResumeSkip)
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "last event:   none (the stream is empty)")
	}
	if st.LagEvents != nil {
		more := ""
		if !st.LagComplete {
			more = " or more (counting stopped after 10s)"
		}
		fmt.Fprintf(w, "lag:          %d events%s, %.1f s\n", *st.LagEvents, more, *st.LagSeconds)
	}
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
