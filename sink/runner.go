package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/tributary-cdc/tributary/eventlog"
)

// Options configure a Runner.
type Options struct {
	// Name is the sink's name, unique per stream; it names the durable
	// consumer.
	Name string
	// Stream is the event store's stream.
	Stream string
	// Tables are the source tables the read model holds; empty for all.
	Tables []TableName
	// Keys are the key columns configured for tables whose events are not
	// keyed by their primary key (the stream's recorded keys).
	Keys map[TableName][]string
	// Batch is the most events one target transaction holds, where source
	// transactions allow (one larger than that is never split).
	Batch  int
	Logger *slog.Logger
}

// ConsumerPrefix starts the name of each sink's durable consumer: the
// consumer is named ConsumerPrefix + the sink's name. It is only a delivery
// cursor (the checkpoint lives in the read model), so renaming it replays
// nothing; a sink renamed, though, is a new read model.
const ConsumerPrefix = "tributary-sink-"

// Runner keeps one read model of one stream.
type Runner struct {
	nc     *nats.Conn
	target Target
	opts   Options
	log    *slog.Logger
}

// NewRunner returns a Runner applying the stream's events to target.
func NewRunner(nc *nats.Conn, target Target, opts Options) *Runner {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{nc: nc, target: target, opts: opts, log: log.With("sink", opts.Name)}
}

func (r *Runner) includes(n TableName) bool {
	return len(r.opts.Tables) == 0 || slices.Contains(r.opts.Tables, n)
}

// Project keeps the live read model current until ctx is done, from its
// checkpoint on. Failures it can recover from (the target or NATS gone for
// a while, a rebuild swapping the model) make it start again from the
// checkpoint, backing off; one it cannot (a value the target cannot hold, a
// DDL statement it cannot apply) is returned.
func (r *Runner) Project(ctx context.Context) error {
	backoff := time.Second
	var pinned string // the point last logged as the one the model stays at
	for {
		err := r.project(ctx)
		var pe *pinnedError
		if !errors.As(err, &pe) {
			pinned = ""
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case pe != nil:
			if pe.asOf != pinned {
				r.log.Info("read model was rebuilt as of a past point and stays there; rebuild it without --as-of to follow the stream again", "as_of", pe.asOf, "seq", pe.seq)
				pinned = pe.asOf
			}
			backoff = time.Second
			if !sleep(ctx, 2*time.Second) {
				return nil
			}
			continue
		case errors.Is(err, ErrMoved):
			r.log.Info("read model replaced; continuing from its checkpoint", "detail", err.Error())
			backoff = time.Second
			continue
		case permanent(err):
			return err
		}
		r.log.Warn("projection interrupted; retrying", "err", err, "in", backoff)
		if !sleep(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// pinnedError says the live model was rebuilt as of a past point, where
// the projection leaves it.
type pinnedError struct {
	asOf string
	seq  uint64
}

func (e *pinnedError) Error() string {
	return fmt.Sprintf("read model pinned as of %s (sequence %d)", e.asOf, e.seq)
}

func (r *Runner) project(ctx context.Context) error {
	cp, err := r.target.Checkpoint(ctx, Live)
	if err != nil {
		return fmt.Errorf("read the checkpoint: %w", err)
	}
	if cp.AsOf != "" {
		return &pinnedError{cp.AsOf, cp.Seq}
	}
	a := newApplier(r.target, Live, cp, r.includes, r.opts.Keys, r.opts.Batch)
	defer a.abort()
	if cp.Seq == 0 && len(cp.Tables) == 0 {
		if err := r.start(ctx, a); err != nil {
			return err
		}
	}
	r.log.Info("projecting", "from_seq", cp.Seq+1)
	consume := func(ctx context.Context, fn func(eventlog.StoredEvent) error) error {
		return eventlog.Consume(ctx, r.nc, r.opts.Stream, ConsumerPrefix+r.opts.Name, cp.Seq+1, fn)
	}
	return r.pipeline(ctx, consume, func(ctx context.Context, ch Change, more bool) error { return a.add(ctx, ch, more) })
}

// decoders is how many goroutines decode events: decoding the JSON body
// costs about as much as applying it, so with two the applier, not the
// decoding, sets the pace.
const decoders = 2

// pipeline reads events in one goroutine, decodes them in decoders
// goroutines and applies them, in stream order, in another, so that
// decoding the next events overlaps writing the last ones to the target.
// Events are dealt to the decoders in turn and taken back in the same
// turn, which keeps their order; the channels bound what is read ahead.
func (r *Runner) pipeline(ctx context.Context, read func(context.Context, func(eventlog.StoredEvent) error) error,
	apply func(ctx context.Context, ch Change, more bool) error) error {
	type item struct {
		ch   Change
		more bool
		err  error
	}
	js, err := jetstream.New(r.nc)
	if err != nil {
		return fmt.Errorf("open JetStream: %w", err)
	}
	var in [decoders]chan eventlog.StoredEvent
	var out [decoders]chan item
	g, gctx := errgroup.WithContext(ctx)
	for i := range decoders {
		in[i] = make(chan eventlog.StoredEvent, 512)
		out[i] = make(chan item, 512)
		g.Go(func() error {
			defer close(out[i])
			inl := eventlog.NewInliner(js) // one each: an Inliner is not for concurrent use
			for ev := range in[i] {
				ch, err := decodeStored(gctx, inl, ev)
				select {
				case out[i] <- item{ch, ev.Pending > 0, err}:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer func() {
			for i := range decoders {
				close(in[i])
			}
		}()
		n := 0
		return read(gctx, func(ev eventlog.StoredEvent) error {
			select {
			case in[n%decoders] <- ev:
				n++
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	// The target's transactions live on after the pipeline ends (a rebuild
	// commits its last one then), so they are not tied to gctx, which ends
	// with it.
	g.Go(func() error {
		for n := 0; ; n++ {
			it, ok := <-out[n%decoders]
			if !ok {
				return nil
			}
			if it.err != nil {
				return it.err
			}
			if err := apply(ctx, it.ch, it.more); err != nil {
				return err
			}
		}
	})
	return g.Wait()
}

// start creates the baseline's tables in a model that holds nothing, and
// commits them if the stream is empty.
func (r *Runner) start(ctx context.Context, a *applier) error {
	tables, err := r.baseline(ctx)
	if err != nil {
		return err
	}
	if err := a.baseline(ctx, tables); err != nil {
		return err
	}
	return a.commit(ctx)
}

// baseline reads the table definitions the stream started from.
func (r *Runner) baseline(ctx context.Context) ([]Table, error) {
	raw, err := eventlog.ReadBaseline(ctx, r.nc, r.opts.Stream)
	if err != nil || raw == nil {
		return nil, err
	}
	var doc struct {
		Tables []struct {
			Database   string   `json:"database"`
			Table      string   `json:"table"`
			Charset    string   `json:"charset"` // null leaves it ""
			PrimaryKey []string `json:"primarykey"`
			Columns    []Column `json:"columns"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("read the baseline of stream %s: %w", r.opts.Stream, err)
	}
	var out []Table
	for _, t := range doc.Tables {
		if len(t.Columns) == 0 {
			continue
		}
		out = append(out, Table{Name: TableName{t.Database, t.Table}, Columns: t.Columns, Charset: t.Charset, Key: t.PrimaryKey})
	}
	return out, nil
}

// Until says how far a rebuild goes. The zero value is the end of the
// stream.
type Until struct {
	// Time: every source transaction committed at or before it (the source
	// commit time the events carry, not when NATS stored them).
	Time time.Time
	// Seq: every transaction that begins at or before this stream sequence.
	Seq uint64
	// GTID: every transaction up to and including this one.
	GTID string
}

func (u Until) String() string {
	switch {
	case !u.Time.IsZero():
		return u.Time.UTC().Format(time.RFC3339Nano)
	case u.Seq > 0:
		return fmt.Sprintf("seq %d", u.Seq)
	case u.GTID != "":
		return "gtid " + u.GTID
	}
	return ""
}

// before says whether a transaction beginning with ch is past the point.
func (u Until) before(ch Change) bool {
	switch {
	case !u.Time.IsZero():
		return ch.Time.After(u.Time)
	case u.Seq > 0:
		return ch.Seq > u.Seq
	}
	return false
}

// Progress is how far a rebuild has come.
type Progress struct {
	Seq     uint64 // the last event read
	Last    uint64 // the stream's last event when the rebuild started
	Applied uint64 // events read so far
	Elapsed time.Duration
}

// Rebuild builds the read model again from the first event, into the
// shadow model, up to until, and then swaps it in for the live one. The
// live model stays readable, and as it was, throughout. A rebuild to the end
// of the stream reads until it has caught up with the stream, so that a
// projection running meanwhile carries on from the swap; one as of a past
// point leaves the model there (Checkpoint.AsOf) until the next rebuild.
// progress, if not nil, is called now and then.
func (r *Runner) Rebuild(ctx context.Context, until Until, progress func(Progress)) (Checkpoint, error) {
	if err := r.target.Discard(ctx); err != nil {
		return Checkpoint{}, fmt.Errorf("remove the shadow model of an earlier rebuild: %w", err)
	}
	cp, err := r.rebuild(ctx, until, progress)
	if err != nil {
		if derr := r.target.Discard(context.WithoutCancel(ctx)); derr != nil {
			r.log.Warn("could not remove the shadow model", "err", derr)
		}
		return Checkpoint{}, err
	}
	if err := r.target.Promote(ctx); err != nil {
		return Checkpoint{}, fmt.Errorf("swap the rebuilt model in: %w", err)
	}
	return cp, nil
}

func (r *Runner) rebuild(ctx context.Context, until Until, progress func(Progress)) (Checkpoint, error) {
	info, err := eventlog.StreamInfo(ctx, r.nc, r.opts.Stream)
	if err != nil {
		return Checkpoint{}, err
	}
	a := newApplier(r.target, Shadow, Checkpoint{}, r.includes, r.opts.Keys, r.opts.Batch)
	defer a.abort()
	if err := r.start(ctx, a); err != nil {
		return Checkpoint{}, err
	}
	start := time.Now()
	var applied uint64
	var gtidSeen bool
	lastReport := start
	report := func(seq uint64) {
		if progress != nil {
			progress(Progress{Seq: seq, Last: info.LastSeq, Applied: applied, Elapsed: time.Since(start)})
		}
	}
	if info.LastSeq > 0 {
		read := func(ctx context.Context, fn func(eventlog.StoredEvent) error) error {
			return eventlog.Read(ctx, r.nc, r.opts.Stream, eventlog.ReadOptions{Follow: true}, fn)
		}
		err = r.pipeline(ctx, read, func(ctx context.Context, ch Change, more bool) error {
			if ch.Index == 0 && until.before(ch) {
				return errStop
			}
			applied++
			if err := a.add(ctx, ch, more); err != nil {
				return err
			}
			if now := time.Now(); now.Sub(lastReport) >= 250*time.Millisecond {
				lastReport = now
				report(ch.Seq)
			}
			if ch.Last && until.GTID != "" && ch.GTID == until.GTID {
				gtidSeen = true
				return errStop
			}
			if ch.Last && !more {
				// Caught up: the stream held nothing past this event when
				// it was read, so it is at or past info.LastSeq.
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return Checkpoint{}, err
		}
	}
	if until.GTID != "" && !gtidSeen {
		return Checkpoint{}, fmt.Errorf("GTID %s is not in stream %s (tributary tail shows the GTIDs it holds)", until.GTID, r.opts.Stream)
	}
	a.next.AsOf = until.String()
	if err := a.commit(ctx); err != nil {
		return Checkpoint{}, err
	}
	report(a.cp.Seq)
	return a.cp, nil
}

// decodeStored decodes an event, with its large values put back.
func decodeStored(ctx context.Context, in *eventlog.Inliner, ev eventlog.StoredEvent) (Change, error) {
	body, err := in.Inline(ctx, ev.Body)
	if err != nil {
		return Change{}, fmt.Errorf("event %d: %w", ev.Seq, err)
	}
	ch, err := Decode(ev.Seq, body)
	if err != nil {
		return Change{}, &permanentError{err}
	}
	return ch, nil
}

// permanent says whether retrying cannot help: the error is about the
// events or the configuration, not a connection.
func permanent(err error) bool {
	var pe *permanentError
	return errors.Is(err, ErrValue) || errors.As(err, &pe) || errors.Is(err, eventlog.ErrNoStream)
}

// permanentError marks a failure that retrying cannot cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// stop is a permanent error.
func stop(format string, args ...any) error {
	return &permanentError{fmt.Errorf(format, args...)}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
