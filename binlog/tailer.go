package binlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/tributary-cdc/tributary"
)

// DefaultMaxBatch is how many rows a transaction may have and still be
// handed on as one whole Batch: JetStream's default limit for an atomic
// batch publish.
const DefaultMaxBatch = 1000

// Options configure a Tailer. The zero value of every optional field is a
// sensible default.
type Options struct {
	Source Source
	// ServerID is the replica server id Tailer registers with; it must
	// differ from the source's and from every other replica's.
	ServerID uint32
	// Name is the source name: it prefixes every event id.
	Name string
	// Prefix is the subject prefix.
	Prefix string
	// Include lists db.table patterns (path.Match syntax, e.g. shop.*).
	// Empty means every table outside the system schemas.
	Include []string
	// Keys names the key columns of tables, by "db.table", overriding the
	// primary key or unique key the table has.
	Keys map[string][]string
	// MaxBatch is the largest transaction handed on whole (default
	// DefaultMaxBatch). Larger ones are handed on in parts.
	MaxBatch int
	// StopAt, if set, makes Run return nil once it has read up to this
	// file:offset (e.g. the head at some moment) instead of waiting for
	// more.
	StopAt tributary.Position
	// Idle, if set, is called when the binlog has no event ready, so that
	// the caller can push out what it buffers (the event log groups small
	// transactions into one atomic append until then).
	Idle   func(ctx context.Context) error
	Logger *slog.Logger
}

// Start says where a Tailer begins.
type Start struct {
	// From is a transaction boundary. With a GTID set and a source that has
	// GTIDs, reading starts after that set; otherwise at File:Offset.
	From tributary.Position
	// Skip rows of the first transaction read: they are already stored.
	Skip int
	// TxnID, with Skip, is the id the first transaction must have; anything
	// else means the position does not lead where the stored events say.
	TxnID string
	// Schema is the schema history as of From (Baseline, LoadSchema); nil
	// if there is none, and then DDL read after the fact carries no columns.
	Schema *Schema
}

// ResumeAfter is the Start that continues exactly after the event marked m.
func ResumeAfter(m tributary.TxnMark) Start {
	from, skip := m.Resume()
	s := Start{From: from, Skip: skip}
	if skip > 0 {
		s.TxnID = m.ID
	}
	return s
}

// EmitFunc receives the events of committed transactions in commit order.
// It may keep the batch: the Tailer never reuses it. An error stops the
// Tailer and is returned from Run.
type EmitFunc func(ctx context.Context, b tributary.Batch) error

// Tailer streams a source's binlog and turns row changes into events.
type Tailer struct {
	opts Options
	log  *slog.Logger
}

// NewTailer returns a Tailer; it connects when Run is called.
func NewTailer(opts Options) *Tailer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tailer{opts: opts, log: log}
}

var systemSchemas = map[string]bool{"mysql": true, "information_schema": true, "performance_schema": true, "sys": true}

// ErrResumeMismatch means the transaction found at a resume position is not
// the one the stored events say was interrupted there.
var ErrResumeMismatch = errors.New("resume position does not match the stored events")

// Run streams from start until ctx is done or an error occurs, calling emit
// for every committed transaction (or part of one) with included rows.
// It returns nil only when ctx is done.
func (t *Tailer) Run(ctx context.Context, start Start, emit EmitFunc) error {
	conn, err := t.opts.Source.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	srv, err := Describe(conn)
	if err != nil {
		return err
	}
	cat, err := newSQLCatalog(conn, srv)
	if err != nil {
		return err
	}
	if err := checkNotPurged(conn, srv, start.From); err != nil {
		return err
	}

	cfg := replication.BinlogSyncerConfig{
		ServerID:                t.opts.ServerID,
		Flavor:                  srv.Flavor,
		Host:                    t.opts.Source.Host,
		Port:                    t.opts.Source.Port,
		User:                    t.opts.Source.User,
		Password:                t.opts.Source.Password,
		TimestampStringLocation: time.UTC,
		// A damaged event fails its CRC32 instead of being decoded.
		VerifyChecksum:   true,
		HeartbeatPeriod:  time.Second,
		ReadTimeout:      10 * time.Second,
		DisableRetrySync: true, // Run's caller restarts from the stored position instead
		// go-mysql buffers this many parsed events ahead of us (10,240 by
		// default; a decoded rows event of 100 rows holds tens of KiB): keep
		// memory flat.
		EventCacheCount: 128,
		Logger:          slog.New(quieter{t.log.Handler(), slog.LevelWarn}).With("component", "go-mysql"),
	}
	syncer := replication.NewBinlogSyncer(cfg)
	defer syncer.Close()

	var streamer *replication.BinlogStreamer
	var gset mysql.GTIDSet
	if start.From.GTIDSet != "" && srv.GTID {
		gset, err = mysql.ParseGTIDSet(srv.Flavor, start.From.GTIDSet)
		if err != nil {
			return fmt.Errorf("parse GTID set %q: %w", start.From.GTIDSet, err)
		}
		streamer, err = syncer.StartSyncGTID(gset.Clone())
	} else {
		if start.From.File == "" {
			return fmt.Errorf("start binlog stream: no position given")
		}
		// Track GTIDs from a file position too, so that the events carry
		// GTID positions and later resumes survive a failover.
		if srv.Flavor == FlavorMariaDB {
			if gset, err = mariaDBGTIDSetAt(conn, start.From); err != nil {
				return err
			}
		}
		streamer, err = syncer.StartSync(mysql.Position{Name: start.From.File, Pos: uint32(start.From.Offset)})
	}
	if err != nil {
		return fmt.Errorf("start binlog stream at %s: %w", start.From, err)
	}
	if stop := t.opts.StopAt; stop.File != "" && start.From.File == stop.File && start.From.Offset >= stop.Offset && start.Skip == 0 {
		return nil
	}
	t.log.Info("binlog stream started", "server", t.opts.Source.String(), "flavor", srv.Flavor, "from", start.From.String(), "skip", start.Skip)

	hist, err := newSchemaHistory(cat, start.Schema, t.opts.Include)
	if err != nil {
		return err
	}
	r := &reader{
		opts:   &t.opts,
		log:    t.log,
		cat:    cat,
		hist:   hist,
		emit:   emit,
		gset:   gset,
		file:   start.From.File,
		tables: map[uint64]*table{},
		skip:   start.Skip,
		skipID: start.TxnID,
	}
	if gset != nil {
		r.gsetStr = gset.String()
	}
	// A goroutine of our own reads the streamer, so that the loop below can
	// tell when no event is ready and call Idle.
	pumpCtx, stopPump := context.WithCancel(ctx)
	defer stopPump()
	events := make(chan *replication.BinlogEvent, 64)
	pumpErr := make(chan error, 1)
	go func() {
		for {
			ev, err := streamer.GetEvent(pumpCtx)
			if err != nil {
				pumpErr <- err
				return
			}
			select {
			case events <- ev:
			case <-pumpCtx.Done():
				return
			}
		}
	}()
	var lastPos uint32 // end of the last event handled, in r.file
	for {
		var ev *replication.BinlogEvent
		select {
		case ev = <-events:
		default:
			if t.opts.Idle != nil {
				if err := t.opts.Idle(ctx); err != nil {
					return err
				}
			}
			select {
			case ev = <-events:
			case err := <-pumpErr:
				if ctx.Err() != nil {
					return nil
				}
				return classifyStreamError(start.From, fmt.Sprintf("%s:%d", r.file, lastPos), err)
			case <-ctx.Done():
				return nil
			}
		}
		if err := r.handle(ctx, ev); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		lastPos = ev.Header.LogPos
		if stop := t.opts.StopAt; stop.File != "" && r.file == stop.File && uint64(ev.Header.LogPos) >= stop.Offset && !r.tx.active {
			return nil
		}
	}
}

// mariaDBGTIDSetAt is the GTID state at a binlog file and offset, from the
// server itself (BINLOG_GTID_POS).
func mariaDBGTIDSetAt(conn *client.Conn, at tributary.Position) (mysql.GTIDSet, error) {
	r, err := conn.Execute("SELECT BINLOG_GTID_POS(?, ?)", at.File, at.Offset)
	if err != nil {
		return nil, fmt.Errorf("read the GTID position at %s: %w", at.FileOffset(), err)
	}
	pos, _ := r.GetString(0, 0) // "" before the first GTID: an empty set
	gset, err := mysql.ParseMariadbGTIDSet(pos)
	if err != nil {
		return nil, fmt.Errorf("parse the GTID position %q at %s: %w", pos, at.FileOffset(), err)
	}
	return gset, nil
}

// checkNotPurged refuses a file position whose file the source no longer
// has. GTID positions are checked by the server itself (error 1236).
func checkNotPurged(conn *client.Conn, srv Server, from tributary.Position) error {
	if from.GTIDSet != "" && srv.GTID {
		return nil
	}
	files, err := BinlogFiles(conn)
	if err != nil {
		return err
	}
	if slices.Contains(files, from.File) {
		return nil
	}
	oldest := "none"
	if len(files) > 0 {
		oldest = files[0]
	}
	return fmt.Errorf("%w: %s is not among the source's binary logs (oldest is %s); %s", tributary.ErrBinlogPurged, from.File, oldest, purgedHint)
}

const purgedHint = "the changes made since are in no binlog any more, so this stream cannot be continued without a gap: start a new stream from the current head (tributary start --stream NEW_NAME) and rebuild consumers from it; keep binlogs longer (binlog_expire_logs_seconds) to avoid this"

// classifyStreamError says what an error of the binlog stream means. after
// is where the last event handled ended.
func classifyStreamError(from tributary.Position, after string, err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) && me.Code == mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG {
		return fmt.Errorf("%w: the source cannot serve the binlog from %s: %s; %s", tributary.ErrBinlogPurged, from, me.Message, purgedHint)
	}
	// go-mysql's BinlogSyncer turns a panic of its parser into this error:
	// the same event would fail the same way again, so it is not retried.
	if msg := err.Error(); strings.HasPrefix(msg, "panic ") {
		first, _, _ := strings.Cut(msg, "\n")
		return fmt.Errorf("%w: go-mysql cannot parse the event after %s (%s): read it with mariadb-binlog or mysqlbinlog --start-position to see what the source wrote; tributary stopped there and stored nothing after it", ErrDecode, after, first)
	}
	return fmt.Errorf("read binlog: %w", err)
}

// reader assembles transactions from binlog events. It is used by one
// goroutine.
type reader struct {
	opts   *Options
	log    *slog.Logger
	cat    tableCatalog
	hist   *schemaHistory // the included tables' definitions as of the event being read
	emit   EmitFunc
	tables map[uint64]*table

	file    string        // current binlog file
	gset    mysql.GTIDSet // executed GTID set; nil without GTIDs
	gsetStr string        // gset.String(), kept current

	skip   int    // rows of the first transaction to skip
	skipID string // the id the first transaction must have when skip > 0
	first  bool   // the first transaction has begun

	tx transaction
}

type transaction struct {
	active     bool
	standalone bool // MariaDB DDL or non-transactional statement: ends with its query
	mysqlGTID  bool // begun by MySQL's GTID event (anonymous or not), which says nothing of DDL
	explicit   bool // a BEGIN query followed: ends with XID or COMMIT, not with a statement (SAVEPOINT)
	id, gtid   string
	begin      tributary.Position
	time       time.Time
	index      int  // index of the next row
	handedOn   bool // part of the transaction was already emitted
	// pending events' bodies still lack their closing "txlast" member:
	// it is only known once the next row, or the commit, is (finish).
	pending []tributary.Event
}

func (r *reader) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		r.file = string(e.NextLogName)
		return nil
	case *replication.MariadbGTIDEvent:
		return r.begin(h, e.GTID.String(), e.IsStandalone(), time.Unix(int64(h.Timestamp), 0))
	case *replication.GTIDEvent:
		next, err := e.GTIDNext()
		if err != nil {
			return fmt.Errorf("decode GTID event at %s:%d: %w", r.file, h.LogPos, err)
		}
		ts := e.ImmediateCommitTime()
		if ts.IsZero() {
			ts = time.Unix(int64(h.Timestamp), 0)
		}
		gtid := ""
		if h.EventType == replication.GTID_EVENT {
			gtid = next.String()
		}
		if err := r.begin(h, gtid, false, ts); err != nil {
			return err
		}
		r.tx.mysqlGTID = true
		return nil
	case *replication.QueryEvent:
		return r.query(ctx, h, e)
	case *replication.XIDEvent:
		return r.commit(ctx, h)
	case *replication.TableMapEvent:
		return nil // go-mysql attaches it to the rows events that follow
	case *replication.RowsEvent:
		return r.rows(ctx, h, e)
	case *replication.TransactionPayloadEvent:
		// MySQL's compressed transaction: its events, decompressed, have no
		// binlog positions of their own; the transaction ends where the
		// payload event does.
		for _, inner := range e.Events {
			ih := *inner.Header
			ih.LogPos = h.LogPos
			if err := r.handle(ctx, &replication.BinlogEvent{RawData: inner.RawData, Header: &ih, Event: inner.Event}); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

func (r *reader) begin(h *replication.EventHeader, gtid string, standalone bool, ts time.Time) error {
	if r.tx.active && len(r.tx.pending)+r.tx.index > 0 {
		return fmt.Errorf("binlog at %s:%d: a transaction starts before %s committed", r.file, h.LogPos, r.tx.id)
	}
	r.tx = transaction{
		active:     true,
		standalone: standalone,
		gtid:       gtid,
		begin:      tributary.Position{File: r.file, Offset: uint64(h.LogPos - h.EventSize), GTIDSet: r.gsetStr},
		time:       ts.UTC(),
		pending:    r.tx.pending[:0],
	}
	r.tx.id = gtid
	if gtid == "" {
		r.tx.id = r.tx.begin.FileOffset()
	}
	if !r.first {
		r.first = true
		if r.skip > 0 && r.skipID != "" && r.tx.id != r.skipID {
			return fmt.Errorf("%w: expected transaction %s first, found %s at %s", ErrResumeMismatch, r.skipID, r.tx.id, r.tx.begin)
		}
	} else {
		r.skip = 0 // only the first transaction was partly stored
	}
	return nil
}

func (r *reader) query(ctx context.Context, h *replication.EventHeader, e *replication.QueryEvent) error {
	q := strings.TrimSpace(string(e.Query))
	switch {
	case strings.EqualFold(q, "BEGIN"):
		if !r.tx.active {
			// No GTIDs: BEGIN opens the transaction.
			if err := r.begin(h, "", false, time.Unix(int64(h.Timestamp), 0)); err != nil {
				return err
			}
		}
		r.tx.explicit = true
		return nil
	case strings.EqualFold(q, "COMMIT"):
		return r.commit(ctx, h)
	case strings.EqualFold(q, "ROLLBACK"):
		// Only non-transactional changes reach the binlog with a ROLLBACK;
		// they happened, so they count as committed.
		return r.commit(ctx, h)
	}
	// DDL: table definitions may have changed.
	clear(r.tables)
	r.cat.forget()
	db := string(e.Schema)
	before := make(map[tableRef]*tableSchema)
	refs := slices.DeleteFunc(ddlTables(q, db), func(t tableRef) bool { return !r.included(t.db, t.name) })
	for _, ref := range refs {
		before[ref] = r.hist.lookup(ref)
	}
	r.hist.apply(q, db)
	// A DDL statement is a transaction of its own, ending with it, unless
	// rows follow it (CREATE TABLE … SELECT): those end at their XID or
	// COMMIT. MariaDB's GTID says which with its standalone flag; MySQL
	// ends such a statement with START TRANSACTION. A statement after
	// BEGIN (SAVEPOINT) is part of that transaction.
	rowsFollow := startsTransaction(q)
	ddlTxn := r.tx.active && !r.tx.explicit && r.tx.index == 0 && (r.tx.standalone || r.tx.mysqlGTID && !rowsFollow)
	if !r.tx.active && len(refs) > 0 {
		// No GTIDs: the statement begins a transaction.
		if err := r.begin(h, "", !rowsFollow, time.Unix(int64(h.Timestamp), 0)); err != nil {
			return err
		}
		ddlTxn = !rowsFollow
	}
	if len(refs) > 0 {
		// One look at the source for all the tables the statement names,
		// if the statement is still the last thing in the binlog: what
		// the source says wins over what the history made of it.
		live, err := r.cat.liveTables(refs, r.file, h.LogPos)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			if def, ok := live[ref]; ok {
				followed := r.hist.lookup(ref)
				if def.lossyOf(followed) {
					continue // the source cannot show these labels; the history has them
				}
				if followed != nil && !followed.equal(def) {
					r.log.Warn("the schema history followed a DDL statement differently from the source; using the source's definition",
						"table", ref.db+"."+ref.name, "statement", q, "followed", followed.String(), "source", def.String(), "was", before[ref].String())
				}
				r.hist.set(ref, def)
			}
		}
		for _, ref := range refs {
			if err := r.schemaChanged(ref, q, db, r.hist.lookup(ref), h); err != nil {
				return err
			}
		}
	}
	if ddlTxn {
		return r.commit(ctx, h)
	}
	return nil
}

// startsTransaction reports MySQL's form of CREATE TABLE … SELECT, which
// its rows and an XID follow: the statement ends with START TRANSACTION.
func startsTransaction(stmt string) bool {
	const suffix = "START TRANSACTION"
	stmt = strings.TrimRight(stmt, " \t\r\n;")
	return len(stmt) >= len(suffix) && strings.EqualFold(stmt[len(stmt)-len(suffix):], suffix)
}

// schemaChanged adds the schema_changed event of one included table a DDL
// statement changed, with its definition if known (def nil if not).
func (r *reader) schemaChanged(ref tableRef, stmt, defaultDB string, def *tableSchema, h *replication.EventHeader) error {
	idx := r.tx.index
	r.tx.index++
	if idx < r.skip {
		r.tx.handedOn = true
		return nil
	}
	ev, err := buildSchemaEvent(r.opts, ref, &r.tx, idx, stmt, defaultDB, def)
	if err != nil {
		return &DecodeError{Table: ref.db + "." + ref.name, At: fmt.Sprintf("%s:%d", r.file, h.LogPos), Txn: r.tx.id, Row: idx, Err: err}
	}
	r.tx.pending = append(r.tx.pending, ev)
	return nil
}

func (r *reader) table(e *replication.RowsEvent) (*table, bool, error) {
	tm := e.Table
	schema, name := string(tm.Schema), string(tm.Table)
	if !r.included(schema, name) {
		return nil, false, nil
	}
	if t, ok := r.tables[e.TableID]; ok && t.sameAs(tm) {
		return t, true, nil
	}
	t, err := newTable(tm, r.opts.Prefix, withHistory{r.cat, r.hist}, r.opts.Keys)
	if err != nil {
		return nil, false, err
	}
	r.tables[e.TableID] = t
	return t, true, nil
}

func (r *reader) included(schema, name string) bool {
	return included(r.opts.Include, schema, name)
}

// included reports whether a table is among those include names (all but
// the system schemas if it names none).
func included(include []string, schema, name string) bool {
	if len(include) == 0 {
		return !systemSchemas[strings.ToLower(schema)]
	}
	qualified := schema + "." + name
	for _, p := range include {
		if ok, _ := path.Match(p, qualified); ok {
			return true
		}
	}
	return false
}

func (r *reader) rows(ctx context.Context, h *replication.EventHeader, e *replication.RowsEvent) error {
	if !r.tx.active {
		return fmt.Errorf("binlog at %s:%d: a rows event outside a transaction", r.file, h.LogPos)
	}
	if e.Table == nil {
		return fmt.Errorf("binlog at %s:%d: rows event for table id %d without its table map", r.file, h.LogPos, e.TableID)
	}
	t, ok, err := r.table(e)
	if errors.Is(err, errCatalog) {
		return err // the source went away mid-look-up: start again
	}
	if err != nil {
		return &DecodeError{Table: string(e.Table.Schema) + "." + string(e.Table.Table), At: fmt.Sprintf("%s:%d", r.file, h.LogPos), Txn: r.tx.id, Row: r.tx.index, Err: err}
	}
	if !ok {
		return nil
	}
	op, step := opOf(h.EventType)
	if h.EventType == replication.PARTIAL_UPDATE_ROWS_EVENT {
		return fmt.Errorf("partial JSON update of %s.%s at %s:%d: %w: the event holds only the changed part of the JSON document; set binlog_row_value_options='' on the source",
			t.schema, t.name, r.file, h.LogPos, tributary.ErrPreflight)
	}
	if op == 0 {
		return &DecodeError{Table: t.schema + "." + t.name, At: fmt.Sprintf("%s:%d", r.file, h.LogPos), Txn: r.tx.id, Row: r.tx.index,
			Err: fmt.Errorf("rows event type %s is not supported", h.EventType)}
	}
	if len(e.SkippedColumns) > 0 {
		for _, sk := range e.SkippedColumns {
			if len(sk) > 0 {
				return fmt.Errorf("table %s.%s at %s:%d: %w: the row image is not full (set binlog_row_image=FULL on the source)", t.schema, t.name, r.file, h.LogPos, tributary.ErrPreflight)
			}
		}
	}
	for i := 0; i+step <= len(e.Rows); i += step {
		var before, after []any
		switch op {
		case 'c':
			after = e.Rows[i]
		case 'd':
			before = e.Rows[i]
		case 'u':
			before, after = e.Rows[i], e.Rows[i+1]
		}
		if err := r.row(t, op, before, after, h); err != nil {
			return err
		}
		if err := r.maybeFlush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func opOf(t replication.EventType) (op byte, step int) {
	switch t {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2,
		replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		return 'c', 1
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2,
		replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1:
		return 'u', 2
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2,
		replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		return 'd', 1
	}
	return 0, 0
}

func (r *reader) row(t *table, op byte, before, after []any, h *replication.EventHeader) error {
	idx := r.tx.index
	r.tx.index++
	if idx < r.skip {
		// Stored by an earlier run: what follows is not the whole
		// transaction any more.
		r.tx.handedOn = true
		return nil
	}
	ev, err := buildEvent(r.opts, t, &r.tx, idx, op, before, after)
	if err != nil {
		return &DecodeError{Table: t.schema + "." + t.name, At: fmt.Sprintf("%s:%d", r.file, h.LogPos), Txn: r.tx.id, Row: idx, Err: err}
	}
	r.tx.pending = append(r.tx.pending, ev)
	return nil
}

// flushPart hands on every pending event but the newest, which may still
// turn out to be the transaction's last.
func (r *reader) flushPart(ctx context.Context) error {
	n := len(r.tx.pending) - 1
	events := make([]tributary.Event, n)
	for i := range n {
		events[i] = finish(r.tx.pending[i], false)
	}
	last := r.tx.pending[n]
	r.tx.pending = append(r.tx.pending[:0:0], last)
	r.tx.handedOn = true
	return r.emit(ctx, tributary.Batch{Events: events})
}

// maybeFlush is called after every rows event: a transaction that has
// outgrown MaxBatch is handed on in parts, so memory stays bounded.
func (r *reader) maybeFlush(ctx context.Context) error {
	if len(r.tx.pending) > r.opts.MaxBatch {
		return r.flushPart(ctx)
	}
	return nil
}

func (r *reader) commit(ctx context.Context, h *replication.EventHeader) error {
	if !r.tx.active {
		return nil
	}
	tx := &r.tx
	tx.active = false
	if r.gset != nil && tx.gtid != "" {
		if err := r.gset.Update(tx.gtid); err != nil {
			return fmt.Errorf("track GTID %s: %w", tx.gtid, err)
		}
		r.gsetStr = r.gset.String()
	}
	end := tributary.Position{File: r.file, Offset: uint64(h.LogPos), GTIDSet: r.gsetStr}
	if r.skip > tx.index {
		return fmt.Errorf("%w: %d rows of transaction %s are stored but it has only %d", ErrResumeMismatch, r.skip, tx.id, tx.index)
	}
	if len(tx.pending) == 0 {
		return nil
	}
	n := len(tx.pending)
	events := make([]tributary.Event, n)
	for i := range n - 1 {
		events[i] = finish(tx.pending[i], false)
	}
	tx.pending[n-1].Txn.End = end
	events[n-1] = finish(tx.pending[n-1], true)
	tx.pending = tx.pending[:0]
	return r.emit(ctx, tributary.Batch{Events: events, Whole: !tx.handedOn})
}
