package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/tributary-cdc/tributary"
	"github.com/tributary-cdc/tributary/binlog"
	"github.com/tributary-cdc/tributary/eventlog"
)

func newStartCommand(resume bool) *cobra.Command {
	c := defaultConfig()
	var configPath string
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start a new pipeline: preflight, create the stream, tail the binlog from its head",
		Long: `start runs the preflight checks, creates (or validates) the stream and tails
the binlog from its current head, or from --from-gtid / --from-file and
--from-pos, until SIGINT or SIGTERM; in-flight appends finish on the way out.

Without --nats it runs an embedded NATS server (JetStream, file storage under
--data-dir, fsync before every acknowledgement unless --sync=interval),
listening on --listen so that other tools and 'tributary tail' can connect.

It refuses to start if the stream already holds events of this source: use
'tributary resume' to continue them.`,
		Example: `  tributary start --source mysql://tributary:secret@127.0.0.1:3306 --include 'shop.*'
  tributary start --config tributary.yaml --nats nats://127.0.0.1:4222
  TRIBUTARY_SOURCE=mariadb://tributary:secret@db:3306 tributary start --listen 127.0.0.1:0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.load(cmd, configPath); err != nil {
				return err
			}
			return runStart(cmd.Context(), &c, resume)
		},
	}
	if resume {
		cmd.Use = "resume"
		cmd.Short = "Continue a pipeline exactly after the last event stored in the stream"
		cmd.Long = `resume reads the last event stored in the stream, and continues the binlog
exactly after it: the stream is the checkpoint. Without --include it keeps
the tables the stream was written with (recorded in the stream's metadata).
If the binlog it needs has been purged from the source, it writes nothing
and exits with status 5.`
		cmd.Example = `  tributary resume --source mysql://tributary:secret@127.0.0.1:3306
  tributary resume --config tributary.yaml`
	}
	fs := cmd.Flags()
	commonFlags(fs, &c, &configPath)
	sourceFlags(fs, &c)
	natsFlags(fs, &c)
	fs.StringVar(&c.Include, "include", c.Include, "tables to stream, db.table patterns separated by commas (e.g. 'shop.*,crm.users'; default: all but the system schemas)")
	keysFlag(fs, &c)
	fs.StringVar(&c.Listen, "listen", c.Listen, "embedded NATS server's listen address (port 0: any free port)")
	fs.StringVar(&c.Sync, "sync", c.Sync, "embedded NATS server's fsync: always (before every acknowledgement) or interval (every 2 minutes, faster)")
	fs.IntVar(&c.Replicas, "replicas", c.Replicas, "stream replicas when creating it (3 in a cluster)")
	if !resume {
		fs.StringVar(&c.FromGTID, "from-gtid", "", "start after this GTID set instead of the binlog head")
		fs.StringVar(&c.FromFile, "from-file", "", "start at this binlog file (with --from-pos) instead of the head")
		fs.Uint64Var(&c.FromPos, "from-pos", 0, "start at this offset of --from-file")
	}
	return cmd
}

func runStart(ctx context.Context, c *Config, resume bool) error {
	if err := c.validate(true); err != nil {
		return err
	}
	log := newLogger(c)

	sc, err := openSource(ctx, c)
	if err != nil {
		return err
	}
	defer sc.conn.Close()
	c.deriveNames(sc.srv.Hostname, sc.srv.Port)
	log = log.With("source", c.Name)

	failed, err := checkSource(ctx, sc, c, os.Stderr)
	if err != nil {
		return err
	}

	var embedded *embeddedNATS
	url := c.NATS
	tuneGC(url == "")
	if url == "" {
		if embedded, err = startEmbeddedNATS(c, log); err != nil {
			return err
		}
		defer embedded.Shutdown()
		url = embedded.URL()
	}
	nc, err := connectNATS(url, log)
	if err != nil {
		return fmt.Errorf("%w: %w", tributary.ErrPreflight, err)
	}
	defer nc.Close()
	failed += checkNATS(ctx, nc, os.Stderr)
	if failed > 0 {
		return preflightError(failed)
	}

	if resume {
		// Continue with the tables the stream was written with, unless
		// told otherwise: a forgotten --include must not widen the stream.
		info, err := eventlog.StreamInfo(ctx, nc, c.Stream)
		if err != nil && !errors.Is(err, eventlog.ErrNoStream) { // no stream: Open says so below
			return err
		}
		if err == nil {
			if recorded, ok := info.Metadata["include"]; ok && recorded != c.Include {
				if c.Include == "" {
					c.Include = recorded
				} else {
					log.Warn("include changed: events of newly included tables start here, and those of excluded ones stop", "stream", c.Stream, "was", recorded, "now", c.Include)
				}
			}
			// Likewise the keys: a forgotten --keys must not move rows to
			// other subjects.
			if recorded, ok := info.Metadata["keys"]; ok && recorded != c.Keys {
				if c.Keys == "" {
					// Checked against the source as --keys would have been.
					c.Keys = recorded
					if failed, err := checkKeys(sc, c, os.Stderr); err != nil || failed > 0 {
						return cmp.Or(err, preflightError(failed))
					}
				} else {
					log.Warn("keys changed: events of the tables concerned get other keys and subjects from here on", "stream", c.Stream, "was", recorded, "now", c.Keys)
				}
			}
		}
	}
	store, err := eventlog.Open(ctx, nc, eventlog.Config{Stream: c.Stream, Prefix: c.Prefix, Replicas: c.Replicas, MustExist: resume,
		// status reads these to count lag over the same tables.
		Metadata: map[string]string{"source": c.Name, "include": c.Include, "keys": c.Keys}})
	if errors.Is(err, eventlog.ErrNoStream) {
		return fmt.Errorf("%w: stream %s does not exist at %s, so there is nothing to resume (use tributary start, or check --stream and --nats)", tributary.ErrPreflight, c.Stream, nc.ConnectedUrlRedacted())
	}
	if err != nil {
		return err
	}
	defer store.Close()
	mark, seq, found, err := store.Last(ctx)
	if err != nil {
		return err
	}
	if found && mark.Source != c.Name {
		return fmt.Errorf("%w: stream %s holds events of source %q, not %q (use --stream to name another stream, or --name %s)", tributary.ErrPreflight, c.Stream, mark.Source, c.Name, mark.Source)
	}

	keys, err := c.keys()
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	tailer := binlog.NewTailer(binlog.Options{
		Source:   sc.src,
		ServerID: c.ServerID,
		Name:     c.Name,
		Prefix:   c.Prefix,
		Include:  c.includes(),
		Keys:     keys,
		Idle:     store.Flush,
		Logger:   log,
	})

	var initial *binlog.Start
	switch {
	case resume && !found:
		// Started, but stopped before the first event: continue from where
		// it started, which its baseline says.
		baseline, err := store.Baseline(ctx)
		if err != nil {
			return err
		}
		if baseline == nil {
			return fmt.Errorf("%w: stream %s holds no events of source %q, so there is nothing to resume (use tributary start)", tributary.ErrPreflight, c.Stream, c.Name)
		}
		start, err := binlog.BaselineStart(baseline, c.includes())
		if err != nil {
			return err
		}
		initial = &start
		log.Info("resuming where the stream began: it holds no events yet", "stream", c.Stream, "from", start.From.String())
	case resume:
		from, skip := mark.Resume()
		log.Info("resuming after the last stored event", "stream", c.Stream, "seq", seq, "txn", mark.ID, "row", mark.Index, "from", from.String(), "skip", skip)
	case found:
		return fmt.Errorf("%w: stream %s already holds events of source %q (last: sequence %d, transaction %s): run tributary resume to continue them, or pass --stream to start a new stream", tributary.ErrPreflight, c.Stream, c.Name, seq, mark.ID)
	default:
		start, err := startPosition(ctx, c, sc, tailer, store)
		if err != nil {
			return err
		}
		initial = &start
		log.Info("starting a new pipeline", "stream", c.Stream, "prefix", c.Prefix, "from", start.From.String())
	}
	sc.conn.Close()

	p := &pipeline{log: log, tailer: tailer, store: store, initial: initial, schemas: binlog.SchemaSubjects(c.Prefix), include: c.includes()}
	err = p.run(ctx)
	if err == nil {
		log.Info("stopped: every appended event is acknowledged")
	}
	return err
}

// startPosition is where a new stream starts: the binlog head, with the
// table definitions there stored as the stream's baseline, or the position
// given, without one (binlog.Baseline can only read definitions as they
// are now).
func startPosition(ctx context.Context, c *Config, sc *sourceConn, tailer *binlog.Tailer, store *eventlog.Store) (binlog.Start, error) {
	var from tributary.Position
	switch {
	case c.FromGTID != "":
		if !sc.srv.GTID {
			return binlog.Start{}, usageError("from-gtid: the source has no GTIDs (gtid_mode is OFF); use --from-file and --from-pos")
		}
		from = tributary.Position{GTIDSet: c.FromGTID}
	case c.FromFile != "":
		from = tributary.Position{File: c.FromFile, Offset: c.FromPos}
	default:
		start, baseline, err := tailer.Baseline(ctx)
		if err != nil {
			return binlog.Start{}, err
		}
		if err := store.PutBaseline(ctx, baseline); err != nil {
			return binlog.Start{}, err
		}
		return start, nil
	}
	if err := store.DropBaseline(ctx); err != nil {
		return binlog.Start{}, err
	}
	return binlog.Start{From: from}, nil
}

// pipeline runs the tailer into the store, and after any failure that is
// not permanent starts again from the last event the stream holds: the
// stream, not a side file, says where to continue.
type pipeline struct {
	log     *slog.Logger
	tailer  *binlog.Tailer
	store   *eventlog.Store
	initial *binlog.Start // where a new pipeline starts while the stream is empty
	schemas string        // subjects of the schema_changed events
	include []string
}

const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
	drainLimit = 30 * time.Second
)

func (p *pipeline) run(ctx context.Context) error {
	backoff := minBackoff
	for attempt := 0; ; attempt++ {
		began := time.Now()
		err := p.once(ctx, attempt)
		// Wait for every append in flight, even when stopping: the
		// shutdown promise is that nothing sent is left unacknowledged.
		syncCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainLimit)
		syncErr := p.store.Sync(syncCtx)
		cancel()
		if err == nil || errors.Is(err, context.Canceled) && ctx.Err() != nil {
			err = syncErr
		} else if syncErr != nil && !errors.Is(err, syncErr) {
			// An acknowledgement failure explains the append error better.
			err = syncErr
		}
		if ctx.Err() != nil {
			return err
		}
		if err == nil {
			return nil
		}
		if permanent(err) {
			return err
		}
		if time.Since(began) > time.Minute {
			backoff = minBackoff
		}
		p.log.Warn("pipeline interrupted; continuing from the last stored event", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// A writer killed a moment ago may still have messages on their way into
// the stream; they must land before the stream says where to continue.
const (
	quietWindow = time.Second
	quietLimit  = 10 * time.Second
)

func (p *pipeline) once(ctx context.Context, attempt int) error {
	if err := p.store.WaitQuiet(ctx, quietWindow, quietLimit); err != nil {
		return err
	}
	mark, _, found, err := p.store.Last(ctx)
	if err != nil {
		return err
	}
	var start binlog.Start
	switch {
	case found:
		start = binlog.ResumeAfter(mark)
		if start.Schema, err = p.schema(ctx); err != nil {
			return err
		}
	case p.initial != nil:
		start = *p.initial
	default:
		return fmt.Errorf("%w: the stream is empty: nothing says where to resume (use tributary start)", tributary.ErrPreflight)
	}
	if attempt > 0 {
		p.log.Info("continuing", "from", start.From.String(), "skip", start.Skip)
	}
	return p.tailer.Run(ctx, start, p.store.Append)
}

// schema rebuilds the schema history as of the stream's last event: its
// baseline and the last schema_changed event of each table.
func (p *pipeline) schema(ctx context.Context) (*binlog.Schema, error) {
	baseline, err := p.store.Baseline(ctx)
	if err != nil {
		return nil, err
	}
	events, err := p.store.LastPerSubject(ctx, p.schemas)
	if err != nil {
		return nil, err
	}
	return binlog.LoadSchema(baseline, events, p.include)
}

// permanent reports errors that retrying cannot cure.
func permanent(err error) bool {
	for _, target := range []error{tributary.ErrConflict, tributary.ErrBinlogPurged, tributary.ErrPreflight,
		binlog.ErrResumeMismatch, binlog.ErrDecode, binlog.ErrAccessDenied, errUsage, nats.ErrAuthorization, eventlog.ErrTooLarge} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
