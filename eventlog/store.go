package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/tributary-cdc/tributary"
)

// JetStream headers for atomic batch publish (nats-server 2.12+).
const (
	headerBatchID     = "Nats-Batch-Id"
	headerBatchSeq    = "Nats-Batch-Sequence"
	headerBatchCommit = "Nats-Batch-Commit"
)

// DefaultMaxAtomic is the most messages nats-server accepts in one atomic
// batch by default.
const DefaultMaxAtomic = 1000

// DefaultMaxInFlight bounds the messages published but not yet
// acknowledged: the back-pressure that keeps memory flat while a large
// transaction streams through.
const DefaultMaxInFlight = 4096

// DefaultMaxInFlightBytes bounds the bytes of the messages published but
// not yet acknowledged, so that large events (up to max_payload each) keep
// memory bounded too.
const DefaultMaxInFlightBytes = 64 << 20

// Config describes the stream that holds one source's events.
type Config struct {
	// Stream is the JetStream stream name.
	Stream string
	// Prefix is the subject prefix; the stream captures Prefix.>.
	Prefix string
	// Replicas is the stream's replication factor (1 for a single server,
	// 3 in a cluster).
	Replicas int
	// MaxAtomic is the largest batch appended atomically (default
	// DefaultMaxAtomic); it must not exceed the server's limit.
	MaxAtomic int
	// MaxInFlight bounds unacknowledged messages (default
	// DefaultMaxInFlight).
	MaxInFlight int
	// MaxInFlightBytes bounds the bodies of unacknowledged messages, in
	// bytes (default DefaultMaxInFlightBytes).
	MaxInFlightBytes int
	// AckTimeout is how long one publish may wait for its acknowledgement.
	AckTimeout time.Duration
	// MustExist makes Open fail with ErrNoStream instead of creating a
	// stream that does not exist (resume creates nothing).
	MustExist bool
	// Metadata is recorded in the stream's configuration (keys prefixed
	// "tributary."), kept current on every Open, so that other commands
	// know how the writer is configured.
	Metadata map[string]string
}

// ErrNoStream means the stream does not exist.
var ErrNoStream = errors.New("stream does not exist")

// Store appends events to one stream and reads them back.
//
// Append is for one goroutine; the stream must have one writer. Every
// message carries the stream sequence its writer expects to follow
// (Nats-Expected-Last-Sequence), so a second writer, or a message resent
// after a lost acknowledgement, is refused by the server instead of
// interleaving or duplicating.
type Store struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	cfg    Config
	atomic bool

	last uint64 // stream sequence the next publish expects to follow

	// group holds whole transactions waiting to be appended together as
	// one atomic batch: a batch of whole transactions is all-or-nothing, so
	// each stays whole, and the server's per-batch cost is paid once.
	group []tributary.Event
	// batchPrefix and batches name the atomic batches: a prefix random to
	// this Store (from a NUID generator of its own) and a count. The server
	// stores the id with every message of a batch, so it is short (about 10
	// bytes, where a NUID is 22); it only has to differ from the ids of the
	// stream's other open batches, a second writer's included.
	batchPrefix string
	batches     uint64

	values values // large column values, out of the events

	queue chan pendingAck
	// lost is closed when the NATS connection drops, then replaced: an
	// acknowledgement cannot arrive over a connection lost after the
	// publish.
	lost atomic.Pointer[chan struct{}]

	// inFlight counts messages sent but not yet acknowledged (an atomic
	// batch of n messages counts n until its one acknowledgement).
	flowMu        sync.Mutex
	flowCond      *sync.Cond
	inFlight      int
	inFlightBytes int
	peakBytes     int // the most inFlightBytes has been

	mu      sync.Mutex
	err     error // first append failure; cleared by Sync
	pending sync.WaitGroup
	done    chan struct{}
}

type pendingAck struct {
	fut  jetstream.PubAckFuture
	want uint64          // the sequence the acknowledgement must carry
	load load            // the messages it covers
	lost <-chan struct{} // closed if the connection it was sent on drops
}

// load is what messages in flight weigh against the bounds.
type load struct{ msgs, bytes int }

func loadOf(events []tributary.Event) load {
	l := load{msgs: len(events)}
	for i := range events {
		l.bytes += len(events[i].Body)
	}
	return l
}

// ErrConnectionLost means the NATS connection dropped while appends were
// unacknowledged: they may or may not be stored, and only the stream can
// tell (Store.Last).
var ErrConnectionLost = errors.New("NATS connection lost")

// ErrTooLarge means an event, with its headers, is larger than the NATS
// server accepts in one message (its max_payload). Retrying cannot help.
var ErrTooLarge = errors.New("event larger than the NATS server's max_payload")

// tooLarge explains ErrTooLarge for one event.
func (s *Store) tooLarge(ev *tributary.Event, msg *nats.Msg) error {
	size := msg.Size() - len(msg.Subject) - len(msg.Reply) // headers and body, what max_payload bounds
	return fmt.Errorf("%w: event %s (subject %s) is %d bytes with its headers, too many even with every value of %d bytes or more moved to object store %s: the server at %s accepts at most %d (raise max_payload in the nats-server configuration, at most 64 MB, or leave the table out with --include, then run tributary resume; it continues after the last event the stream holds, so nothing is lost)",
		ErrTooLarge, ev.ID, ev.Subject, size, minExternal, ValuesBucket(s.cfg.Stream), s.nc.ConnectedUrlRedacted(), s.nc.MaxPayload())
}

// sendError explains a failure to send ev's message: its headers can
// still take it over max_payload after fit.
func (s *Store) sendError(ev *tributary.Event, msg *nats.Msg, err error) error {
	if errors.Is(err, nats.ErrMaxPayload) {
		return s.tooLarge(ev, msg)
	}
	return err
}

// ErrJetStreamUnavailable means the NATS server has no JetStream for this
// account.
var ErrJetStreamUnavailable = errors.New("JetStream is not enabled on the NATS server")

// Open checks that nc reaches a JetStream new enough, creates the stream if
// it does not exist and validates it if it does.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Store, error) {
	if cfg.MaxAtomic <= 0 {
		cfg.MaxAtomic = DefaultMaxAtomic
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxInFlightBytes <= 0 {
		cfg.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 30 * time.Second
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(cfg.MaxInFlight+16),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout))
	if err != nil {
		return nil, fmt.Errorf("open JetStream: %w", err)
	}
	if err := CheckServer(ctx, nc); err != nil {
		return nil, err
	}
	s := &Store{nc: nc, js: js, cfg: cfg, atomic: SupportsAtomic(nc.ConnectedServerVersion()), batchPrefix: nuid.New().Next()[:8]}
	if s.stream, err = ensureStream(ctx, js, cfg, s.atomic); err != nil {
		return nil, err
	}
	s.queue = make(chan pendingAck, cfg.MaxInFlight)
	s.done = make(chan struct{})
	s.flowCond = sync.NewCond(&s.flowMu)
	// Fail acknowledgements pending on a lost connection at once, rather
	// than after AckTimeout.
	lost := make(chan struct{})
	s.lost.Store(&lost)
	// With reconnects on, a dropped connection shows as RECONNECTING.
	status := nc.StatusChanged(nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	go func() {
		for {
			select {
			case <-s.done:
				nc.RemoveStatusListener(status)
				return
			case <-status:
				next := make(chan struct{})
				close(*s.lost.Swap(&next))
			}
		}
	}()
	go s.ackLoop()
	return s, nil
}

// CheckServer verifies that nc reaches a server with JetStream enabled.
func CheckServer(ctx context.Context, nc *nats.Conn) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("open JetStream: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || errors.Is(err, nats.ErrNoResponders) {
			return fmt.Errorf("%w at %s (start nats-server with -js, or enable jetstream in its config)", ErrJetStreamUnavailable, nc.ConnectedUrlRedacted())
		}
		return fmt.Errorf("read JetStream account info: %w", err)
	}
	return nil
}

// Supported reports whether Tributary works with a server of this version
// (nats-server 2.10 and later).
func Supported(version string) bool {
	major, minor := parseVersion(version)
	return major > 2 || major == 2 && minor >= 10
}

// SupportsAtomic reports whether a server of this version accepts atomic
// batch publish (nats-server 2.12 and later).
func SupportsAtomic(version string) bool {
	major, minor := parseVersion(version)
	return major > 2 || major == 2 && minor >= 12
}

func parseVersion(v string) (major, minor int) {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0
	}
	major, _ = strconv.Atoi(parts[0])
	minor, _ = strconv.Atoi(parts[1])
	return major, minor
}

func streamConfig(cfg Config, atomic bool) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "Tributary event store: one source's committed row changes, in commit order",
		Subjects:    []string{cfg.Prefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		MaxAge:      0,
		Replicas:    cfg.Replicas,
		// An event store is append-only: no event may be removed from the
		// middle of the history.
		DenyDelete:         true,
		AllowAtomicPublish: atomic,
		Metadata:           metadata(cfg.Metadata),
	}
}

func metadata(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[metadataPrefix+k] = v
	}
	return out
}

const metadataPrefix = "tributary."

func ensureStream(ctx context.Context, js jetstream.JetStream, cfg Config, atomic bool) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) && cfg.MustExist {
		return nil, fmt.Errorf("stream %s: %w", cfg.Stream, ErrNoStream)
	}
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = js.CreateStream(ctx, streamConfig(cfg, atomic))
		if err != nil {
			if strings.Contains(err.Error(), "subjects overlap") {
				return nil, fmt.Errorf("create stream %s for subjects %s.>: another stream already captures them (choose another --prefix, or use that stream with --stream): %w", cfg.Stream, cfg.Prefix, err)
			}
			return nil, fmt.Errorf("create stream %s: %w", cfg.Stream, err)
		}
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up stream %s: %w", cfg.Stream, err)
	}
	have := st.CachedInfo().Config
	want := cfg.Prefix + ".>"
	if len(have.Subjects) != 1 || have.Subjects[0] != want {
		return nil, fmt.Errorf("stream %s captures %v, not %s (use the prefix it was created with, or another --stream)", cfg.Stream, have.Subjects, want)
	}
	if have.Storage != jetstream.FileStorage {
		return nil, fmt.Errorf("stream %s uses memory storage: an event store needs file storage (recreate it)", cfg.Stream)
	}
	update := false
	if atomic && !have.AllowAtomicPublish {
		have.AllowAtomicPublish = true
		update = true
	}
	for k, v := range metadata(cfg.Metadata) {
		if have.Metadata[k] != v {
			if have.Metadata == nil {
				have.Metadata = map[string]string{}
			}
			have.Metadata[k] = v
			update = true
		}
	}
	if update {
		if st, err = js.UpdateStream(ctx, have); err != nil {
			return nil, fmt.Errorf("update stream %s: %w", cfg.Stream, err)
		}
	}
	return st, nil
}

// Stream is the stream's name.
func (s *Store) Stream() string { return s.cfg.Stream }

// Atomic reports whether whole transactions are appended atomically.
func (s *Store) Atomic() bool { return s.atomic }

// Last reads the last stored event's transaction mark and stream sequence.
// found is false for an empty stream. It also makes Append continue after
// that sequence, so call it after Sync and before appending.
func (s *Store) Last(ctx context.Context) (mark tributary.TxnMark, seq uint64, found bool, err error) {
	last, found, err := lastEvent(ctx, s.stream)
	if err != nil {
		return mark, 0, false, err
	}
	s.last = last.Seq
	return last.Mark, last.Seq, found, nil
}

// WaitQuiet waits until the stream's last sequence has stayed unchanged for
// quiet, so that messages a writer sent just before it died have all
// landed before a new writer reads where to continue. If the stream keeps
// growing for longer than limit, another writer is alive and appending:
// WaitQuiet returns an ErrConflict error and nothing must be written.
func (s *Store) WaitQuiet(ctx context.Context, quiet, limit time.Duration) error {
	start := time.Now()
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("read stream %s info: %w", s.cfg.Stream, err)
	}
	seq, since := info.State.LastSeq, time.Now()
	grew := uint64(0)
	for time.Since(since) < quiet {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(quiet / 10):
		}
		info, err := s.stream.Info(ctx)
		if err != nil {
			return fmt.Errorf("read stream %s info: %w", s.cfg.Stream, err)
		}
		if info.State.LastSeq != seq {
			grew += info.State.LastSeq - seq
			seq, since = info.State.LastSeq, time.Now()
		}
		if time.Since(start) > limit {
			return fmt.Errorf("stream %s grew by %d events in %s while this tributary wrote nothing: %w (another tributary is running for this source; stop it, or use another --stream)",
				s.cfg.Stream, grew, limit, tributary.ErrConflict)
		}
	}
	return nil
}

// LastEvent is the newest event in a stream.
type LastEvent struct {
	Seq    uint64
	Mark   tributary.TxnMark
	Stored time.Time
	Body   []byte
}

func lastEvent(ctx context.Context, st jetstream.Stream) (LastEvent, bool, error) {
	info, err := st.Info(ctx)
	if err != nil {
		return LastEvent{}, false, fmt.Errorf("read stream info: %w", err)
	}
	return lastEventOf(ctx, st, info)
}

// lastEventOf reads the newest event of a stream whose info is at hand.
func lastEventOf(ctx context.Context, st jetstream.Stream, info *jetstream.StreamInfo) (LastEvent, bool, error) {
	name := info.Config.Name
	last := LastEvent{Seq: info.State.LastSeq}
	if info.State.Msgs == 0 {
		return last, false, nil
	}
	msg, err := st.GetMsg(ctx, last.Seq)
	if err != nil {
		return last, false, fmt.Errorf("read last event (stream %s sequence %d): %w", name, last.Seq, err)
	}
	last.Mark, err = decodeHeaders(msg.Header)
	if err != nil {
		return last, false, fmt.Errorf("read last event (stream %s sequence %d, subject %s): %w", name, last.Seq, msg.Subject, err)
	}
	last.Stored, last.Body = msg.Time, msg.Data
	return last, true, nil
}

// Append publishes a batch after every earlier one. It returns once the
// messages are sent (or grouped, below), not acknowledged; an
// acknowledgement that fails, or carries another sequence than expected,
// fails the next Append and Sync.
//
// Whole batches small enough are grouped, consecutive transactions
// together, up to MaxAtomic messages, and appended as one atomic batch when
// the group is full, when a batch that cannot join arrives, or on Flush.
// Callers call Flush when they have nothing more to append for now.
// Append and Flush are for one goroutine.
func (s *Store) Append(ctx context.Context, b tributary.Batch) error {
	if err := s.failure(); err != nil {
		return err
	}
	n := len(b.Events)
	if n == 0 {
		return nil
	}
	if b.Whole && s.atomic && n <= s.cfg.MaxAtomic {
		if len(s.group)+n > s.cfg.MaxAtomic {
			if err := s.Flush(ctx); err != nil {
				return err
			}
		}
		s.group = append(s.group, b.Events...)
		if len(s.group) == s.cfg.MaxAtomic {
			return s.Flush(ctx)
		}
		return nil
	}
	if err := s.Flush(ctx); err != nil {
		return err
	}
	return s.appendEach(ctx, b.Events)
}

// Flush appends the grouped transactions, if any.
func (s *Store) Flush(ctx context.Context) error {
	events := s.group
	// Nothing keeps the events once sent (the messages hold their bodies):
	// the group's array is reused, emptied so that it holds no body either.
	defer func() {
		clear(events)
		s.group = events[:0]
	}()
	if err := s.failure(); err != nil {
		return err // they would follow a failed append: never send them
	}
	if len(events) == 0 {
		return nil
	}
	if len(events) == 1 {
		return s.appendEach(ctx, events)
	}
	if err := s.fitAll(ctx, events); err != nil {
		return err
	}
	l := loadOf(events)
	s.acquire(l)
	return s.appendAtomic(ctx, events, l)
}

// fitAll makes every event small enough for one message.
func (s *Store) fitAll(ctx context.Context, events []tributary.Event) error {
	for i := range events {
		ev := &events[i]
		if err := s.fit(ctx, ev); err != nil {
			if errors.Is(err, errStillTooLarge) {
				return s.tooLarge(ev, &nats.Msg{Data: ev.Body, Header: Headers(ev.Txn)})
			}
			return err
		}
	}
	return nil
}

// appendEach publishes events one by one, each fenced.
func (s *Store) appendEach(ctx context.Context, events []tributary.Event) error {
	if err := s.fitAll(ctx, events); err != nil {
		return err
	}
	for i := range events {
		ev := &events[i]
		l := load{msgs: 1, bytes: len(ev.Body)}
		s.acquire(l)
		msg := &nats.Msg{Subject: ev.Subject, Data: ev.Body, Header: Headers(ev.Txn)}
		msg.Header[jetstream.ExpectedLastSeqHeader] = []string{strconv.FormatUint(s.last, 10)}
		if err := s.publishAsync(ctx, msg, s.last+1, l); err != nil {
			return s.sendError(ev, msg, err)
		}
		s.last++
	}
	return nil
}

func (s *Store) appendAtomic(ctx context.Context, events []tributary.Event, l load) error {
	s.batches++
	id := s.batchPrefix + strconv.FormatUint(s.batches, 36)
	n := len(events)
	for i := range events {
		ev := &events[i]
		msg := &nats.Msg{Subject: ev.Subject, Data: ev.Body, Header: Headers(ev.Txn)}
		msg.Header[headerBatchID] = []string{id}
		msg.Header[headerBatchSeq] = []string{strconv.Itoa(i + 1)}
		if i == 0 {
			// Only the first message of a batch may carry the expected
			// last sequence; it fences the whole batch.
			msg.Header[jetstream.ExpectedLastSeqHeader] = []string{strconv.FormatUint(s.last, 10)}
		}
		if i < n-1 {
			// Staged by the server; only the commit is acknowledged.
			// A batch left uncommitted is dropped by the server: nothing of
			// it is stored.
			if err := s.nc.PublishMsg(msg); err != nil {
				s.release(l)
				return s.sendError(ev, msg, fmt.Errorf("append batch after stream sequence %d: %w", s.last, err))
			}
			continue
		}
		msg.Header[headerBatchCommit] = []string{"1"}
		if err := s.publishAsync(ctx, msg, s.last+uint64(n), l); err != nil {
			return s.sendError(ev, msg, err)
		}
	}
	s.last += uint64(n)
	return nil
}

func (s *Store) publishAsync(ctx context.Context, msg *nats.Msg, want uint64, l load) error {
	fut, err := s.js.PublishMsgAsync(msg)
	if err != nil {
		s.release(l)
		return fmt.Errorf("append at stream sequence %d: %w", want, err)
	}
	s.pending.Add(1)
	// The queue holds at most MaxInFlight acknowledgements and acquire
	// bounds messages to as many, so this send does not block for long.
	select {
	case s.queue <- pendingAck{fut: fut, want: want, load: l, lost: *s.lost.Load()}:
		return nil
	case <-ctx.Done():
		s.pending.Done()
		s.release(l)
		return ctx.Err()
	}
}

// acquire waits until l more may be in flight: back-pressure that bounds
// memory whatever the batch and message sizes. A batch larger than a bound
// is let through alone.
func (s *Store) acquire(l load) {
	s.flowMu.Lock()
	for s.inFlight > 0 && (s.inFlight+l.msgs > s.cfg.MaxInFlight || s.inFlightBytes+l.bytes > s.cfg.MaxInFlightBytes) {
		s.flowCond.Wait()
	}
	s.inFlight += l.msgs
	s.inFlightBytes += l.bytes
	s.peakBytes = max(s.peakBytes, s.inFlightBytes)
	s.flowMu.Unlock()
}

func (s *Store) release(l load) {
	s.flowMu.Lock()
	s.inFlight -= l.msgs
	s.inFlightBytes -= l.bytes
	s.flowMu.Unlock()
	s.flowCond.Broadcast()
}

// ackLoop checks acknowledgements in publish order and records the first
// failure.
func (s *Store) ackLoop() {
	for {
		select {
		case <-s.done:
			return
		case p := <-s.queue:
			s.check(p)
			s.release(p.load)
			s.pending.Done()
		}
	}
}

func (s *Store) check(p pendingAck) {
	var err error
	select {
	case ack := <-p.fut.Ok():
		err = checkAck(ack, p.want)
	case e := <-p.fut.Err():
		err = classifyPublishError(p.want, p.load.msgs, e)
	case <-p.lost:
		select { // an acknowledgement that made it before the loss counts
		case ack := <-p.fut.Ok():
			err = checkAck(ack, p.want)
		default:
			err = fmt.Errorf("append at stream sequence %d: %w before the acknowledgement", p.want-uint64(p.load.msgs)+1, ErrConnectionLost)
		}
	}
	if err == nil {
		return
	}
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func checkAck(ack *jetstream.PubAck, want uint64) error {
	if ack.Sequence != want {
		return fmt.Errorf("append: stored at stream sequence %d, expected %d: %w", ack.Sequence, want, tributary.ErrConflict)
	}
	return nil
}

func classifyPublishError(want uint64, n int, err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant:
			return fmt.Errorf("append at stream sequence %d: %w (is a second tributary running for this source? stop it; %s)", want-uint64(n)+1, tributary.ErrConflict, apiErr.Description)
		}
	}
	return fmt.Errorf("append at stream sequence %d: %w", want-uint64(n)+1, err)
}

func (s *Store) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Sync flushes the group and waits until every append so far is
// acknowledged or failed, and returns the first failure, clearing it (and
// dropping whatever was grouped but not sent): after a failure, call Last
// to learn what was stored before appending again.
func (s *Store) Sync(ctx context.Context) error {
	flushErr := s.Flush(ctx)
	done := make(chan struct{})
	go func() {
		s.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.err
	s.err = nil
	if err == nil {
		// A flush that failed before sending, e.g. an event too large.
		err = flushErr
	}
	return err
}

// Close stops the acknowledgement checker. Call Sync first to wait for
// outstanding appends; Close does not.
func (s *Store) Close() {
	close(s.done)
}
