package sink

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// applier applies changes, in stream order, to one model of a target: one
// target transaction per run of whole source transactions, never ending
// inside one, with the checkpoint of the last event applied written in it.
type applier struct {
	target Target
	model  Model
	tables func(TableName) bool // which source tables the read model holds
	keys   map[TableName][]string
	batch  int // events per target transaction, at most, where transactions allow

	cp      Checkpoint // as committed
	next    Checkpoint // as it will be committed
	tx      Tx
	events  int // since the last commit
	inTxn   bool
	pending map[TableName]*pendingRows
	order   []TableName
	rows    int // buffered in pending
	// renamedAway are tables a RENAME in the current source transaction
	// took away, waiting for the event of the table they became.
	renamedAway []Table
}

// pendingRows are the buffered changes of one table, folded by key: only
// each key's final state is written, a row replacing whatever the key
// held, or a delete of a key that may hold one. That is exact because the
// whole run lands in one transaction.
type pendingRows struct {
	table *Table
	keys  map[string]int // key → index in final
	final []finalRow
	buf   []byte // the key being looked up, reused
}

type finalRow struct {
	image Row // the image the key was first seen in
	row   Row // nil: deleted
	// absent says the key cannot hold a row in the target before the run,
	// so its deletion needs no statement.
	absent bool
}

// key is the row's key, for a delete: only the target table's key columns.
func (f *finalRow) key(t *Table) Row {
	k := make(Row, len(t.Key))
	for _, c := range t.Key {
		k[c] = f.image[c]
	}
	return k
}

var errStop = errors.New("stop reading")

// Default target transaction sizes, in events, where the sink sets none.
// A live model's transactions are what its readers wait for; a rebuild's
// shadow model has no readers, and larger transactions write each page of a
// table once for more rows (SQLite's write rate at 1,000,000 events went
// from 63,000 to 77,000 events/s with 20,000 instead of 5,000;
// docs/BENCHMARKS.md).
const (
	DefaultBatch        = 5000
	DefaultRebuildBatch = 20000
)

func newApplier(t Target, m Model, cp Checkpoint, tables func(TableName) bool, keys map[TableName][]string, batch int) *applier {
	if batch <= 0 {
		batch = DefaultBatch
		if m == Shadow {
			batch = DefaultRebuildBatch
		}
	}
	return &applier{target: t, model: m, tables: tables, keys: keys, batch: batch, cp: cp, next: cloneCheckpoint(cp),
		pending: map[TableName]*pendingRows{}}
}

// begin opens the target transaction and checks that the stored checkpoint
// is the one this applier continues from.
func (a *applier) begin(ctx context.Context) error {
	if a.tx != nil {
		return nil
	}
	tx, err := a.target.Begin(ctx, a.model)
	if err != nil {
		return fmt.Errorf("begin a %s transaction: %w", a.model, err)
	}
	stored, err := tx.Checkpoint(ctx)
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("read the %s checkpoint: %w", a.model, err)
	}
	if stored.Seq != a.cp.Seq || stored.AsOf != a.cp.AsOf {
		_ = tx.Rollback()
		return fmt.Errorf("%s model at sequence %d, expected %d: %w", a.model, stored.Seq, a.cp.Seq, ErrMoved)
	}
	a.tx = tx
	return nil
}

// add applies one change. more says whether the reader knows of further
// events; without them a finished transaction is committed at once.
func (a *applier) add(ctx context.Context, ch Change, more bool) error {
	if ch.Seq <= a.next.Seq {
		return nil // delivered again
	}
	if err := a.begin(ctx); err != nil {
		return err
	}
	if a.tables(ch.Table) {
		var err error
		if ch.Op == OpSchema {
			err = a.schema(ctx, ch)
		} else {
			err = a.row(ch)
		}
		if err != nil {
			return err
		}
	}
	a.next.Seq = ch.Seq
	a.events++
	a.inTxn = !ch.Last
	if ch.Last && len(a.renamedAway) > 0 {
		if err := a.dropRenamed(ctx); err != nil {
			return err
		}
	}
	if ch.Last {
		a.next.TxID, a.next.Time = ch.TxID, ch.Time
		if a.events >= a.batch || !more {
			return a.commit(ctx)
		}
		return nil
	}
	if a.rows >= a.batch {
		return a.flush(ctx) // a large transaction: write what it has so far, commit at its end
	}
	return nil
}

// commit writes what is buffered and the checkpoint, in the open
// transaction, and commits it.
func (a *applier) commit(ctx context.Context) error {
	if a.inTxn {
		return fmt.Errorf("commit inside source transaction %s (bug)", a.next.TxID)
	}
	if err := a.begin(ctx); err != nil {
		return err
	}
	if err := a.flush(ctx); err != nil {
		return err
	}
	if err := a.tx.Commit(ctx, a.next); err != nil {
		a.abort()
		return fmt.Errorf("commit %s model at sequence %d: %w", a.model, a.next.Seq, err)
	}
	a.tx = nil
	a.cp = cloneCheckpoint(a.next)
	a.events = 0
	return nil
}

// abort rolls back the open transaction and forgets what it held.
func (a *applier) abort() {
	if a.tx != nil {
		_ = a.tx.Rollback()
		a.tx = nil
	}
	a.next = cloneCheckpoint(a.cp)
	a.pending = map[TableName]*pendingRows{}
	a.order, a.rows, a.events, a.inTxn = nil, 0, 0, false
	a.renamedAway = nil
}

func (a *applier) row(ch Change) error {
	p := a.pending[ch.Table]
	if p == nil {
		// The table's first row in the run: the only time it is looked up.
		t, ok := a.next.Table(ch.Table)
		if !ok {
			return stop("event %d: a row of %s, whose definition the read model does not know (the stream has no baseline or DDL event for it: start the stream with tributary start from the binlog head, or leave the table out of the sink)", ch.Seq, ch.Table)
		}
		if len(t.Key) == 0 {
			return stop("event %d: table %s has no key, and a read model keeps one row per key: give the table a primary key, or name its key columns with --keys", ch.Seq, ch.Table)
		}
		p = &pendingRows{table: t, keys: map[string]int{}}
		a.pending[ch.Table] = p
		a.order = append(a.order, ch.Table)
	}
	a.rows++
	// A shadow model is built by one writer from nothing: a row inserted
	// on the source cannot be in it yet, so if it is deleted again in the
	// same run nothing needs deleting. A live model may hold anything (a
	// crash between a DDL statement that committed by itself and the
	// checkpoint), so a deleted key is always deleted.
	fresh := a.model == Shadow
	switch ch.Op {
	case OpCreate:
		return p.set(ch, ch.After, ch.After, fresh)
	case OpRead:
		return p.set(ch, ch.After, ch.After, false)
	case OpDelete:
		return p.set(ch, ch.Before, nil, false)
	case OpUpdate:
		if err := p.set(ch, ch.Before, nil, false); err != nil {
			return err
		}
		return p.set(ch, ch.After, ch.After, false)
	}
	return nil
}

// set records that the row whose key is in image now is row (nil: gone).
// absent says the key cannot be in the target before this change.
//
// It runs for every row change, so it allocates only for a key it has not
// seen in the run.
func (p *pendingRows) set(ch Change, image, row Row, absent bool) error {
	p.buf = p.buf[:0]
	for _, k := range p.table.Key {
		v, ok := image[k]
		if !ok {
			return stop("event %d: the image of %s has no key column %s", ch.Seq, ch.Table, k)
		}
		// A NUL cannot occur in a JSON value, and SQL NULL (nil) is
		// written as nothing: distinct from the text null.
		p.buf = append(append(p.buf, v...), 0)
	}
	i, ok := p.keys[string(p.buf)]
	if !ok {
		i = len(p.final)
		p.keys[string(p.buf)] = i
		p.final = append(p.final, finalRow{image: image, absent: absent})
	}
	p.final[i].row = row
	return nil
}

// flush writes the buffered rows into the open transaction.
func (a *applier) flush(ctx context.Context) error {
	for _, name := range a.order {
		p := a.pending[name]
		var keys, rows []Row
		for _, f := range p.final {
			switch {
			case f.row != nil:
				rows = append(rows, f.row)
			case !f.absent:
				keys = append(keys, f.key(p.table))
			}
		}
		if len(keys) > 0 {
			if err := a.tx.Delete(ctx, *p.table, keys); err != nil {
				a.abort()
				return fmt.Errorf("delete %d rows of %s: %w", len(keys), name, err)
			}
		}
		if len(rows) > 0 {
			if err := a.tx.Upsert(ctx, *p.table, rows); err != nil {
				a.abort()
				return fmt.Errorf("write %d rows of %s: %w", len(rows), name, err)
			}
		}
	}
	clear(a.pending)
	a.order, a.rows = a.order[:0], 0
	return nil
}

// schema applies a DDL event: what it did to the table is read from the
// definitions before and after it (and, for renamed columns and TRUNCATE,
// from the statement).
func (a *applier) schema(ctx context.Context, ch Change) error {
	// The events before a DDL statement are committed first, in a
	// transaction of their own: on a target whose DDL commits by itself
	// (MySQL) they would otherwise be committed without their checkpoint,
	// and applied again after a crash to the table's new shape.
	if a.events > 0 && !a.inTxn {
		if err := a.commit(ctx); err != nil {
			return err
		}
		if err := a.begin(ctx); err != nil {
			return err
		}
	}
	if err := a.flush(ctx); err != nil {
		return err
	}
	sc := ch.Schema
	old, exists := a.next.Table(ch.Table)
	fail := func(err error) error {
		a.abort()
		return fmt.Errorf("event %d: apply %q to %s: %w", ch.Seq, sc.Statement, ch.Table, err)
	}
	switch {
	case !sc.Known:
		a.abort()
		return stop("event %d: %q changed %s, but the stream does not know the table's definition after it (docs/EVENTS.md, Schema history), so the read model cannot follow it: leave the table out of the sink, or rebuild the sink once a DDL statement read at the binlog head gives the definition again", ch.Seq, sc.Statement, ch.Table)
	case sc.Gone:
		if exists {
			if isRename(sc.Statement) {
				// Renamed away: the statement's next event names the table
				// it became, which takes its rows; if the read model does
				// not hold that one, the table is dropped at the end of the
				// transaction (dropRenamed).
				a.renamedAway = append(a.renamedAway, *old)
			} else if err := a.tx.DropTable(ctx, *old); err != nil {
				return fail(err)
			}
			a.next.Tables = slices.DeleteFunc(a.next.Tables, func(t Table) bool { return t.Name == ch.Table })
		}
		return nil
	}
	t := a.shape(ch.Table, sc)
	if !exists {
		if err := a.checkName(t.Name); err != nil {
			return fail(&permanentError{err})
		}
		if isRename(sc.Statement) && len(a.renamedAway) > 0 {
			from := a.renamedAway[0]
			a.renamedAway = a.renamedAway[1:]
			if err := a.tx.RenameTable(ctx, from, t.Name); err != nil {
				return fail(err)
			}
			from.Name = t.Name
			if !sameShape(from, t) {
				if err := a.tx.AlterTable(ctx, from, t, nil); err != nil {
					return fail(err)
				}
			}
		} else if err := a.tx.CreateTable(ctx, t); err != nil {
			return fail(err)
		}
		a.next.Tables = append(a.next.Tables, t)
		return nil
	}
	if isCreateOrReplace(sc.Statement) {
		// The table was dropped and created again, empty: CreateTable
		// replaces the model's table likewise, whatever its shape.
		if err := a.tx.CreateTable(ctx, t); err != nil {
			return fail(err)
		}
		*old = t
		return nil
	}
	if isTruncate(sc.Statement) {
		if err := a.tx.Truncate(ctx, *old); err != nil {
			return fail(err)
		}
	}
	if sameShape(*old, t) {
		return nil
	}
	renamed, err := renamedColumns(sc.Statement, *old, t)
	if err != nil {
		return fail(&permanentError{err})
	}
	if err := a.tx.AlterTable(ctx, *old, t, renamed); err != nil {
		return fail(err)
	}
	*old = t
	return nil
}

// dropRenamed drops the tables renamed to a table the read model does not
// hold.
func (a *applier) dropRenamed(ctx context.Context) error {
	for _, t := range a.renamedAway {
		if err := a.tx.DropTable(ctx, t); err != nil {
			a.abort()
			return fmt.Errorf("drop %s, renamed out of the read model: %w", t.Name, err)
		}
	}
	a.renamedAway = nil
	return nil
}

// shape is the read-model table for a definition.
func (a *applier) shape(name TableName, sc *SchemaChange) Table {
	return Table{Name: name, Columns: sc.Columns, Charset: sc.Charset, Key: a.key(name, sc.PrimaryKey)}
}

// key is a table's key in the read model: the columns configured for it,
// or else its primary key.
func (a *applier) key(name TableName, primary []string) []string {
	if k := a.keys[name]; k != nil {
		return slices.Clone(k)
	}
	return slices.Clone(primary)
}

// checkName refuses a second table of the same name from another database:
// read-model tables are named after the source table alone.
func (a *applier) checkName(n TableName) error {
	for _, t := range a.next.Tables {
		if t.Name.Table == n.Table && t.Name != n {
			return fmt.Errorf("the read model already holds table %s from %s: list only one of them in the sink's tables", n.Table, t.Name)
		}
	}
	return nil
}

// baseline creates the tables of the stream's baseline, for a model that
// holds nothing yet.
func (a *applier) baseline(ctx context.Context, tables []Table) error {
	if err := a.begin(ctx); err != nil {
		return err
	}
	for _, t := range tables {
		if !a.tables(t.Name) {
			continue
		}
		t.Key = a.key(t.Name, t.Key)
		if err := a.checkName(t.Name); err != nil {
			a.abort()
			return &permanentError{err}
		}
		if err := a.tx.CreateTable(ctx, t); err != nil {
			a.abort()
			return fmt.Errorf("create %s: %w", t.Name, err)
		}
		a.next.Tables = append(a.next.Tables, t)
	}
	return nil
}

func sameShape(a, b Table) bool {
	return slices.Equal(a.Columns, b.Columns) && slices.Equal(a.Key, b.Key)
}

func cloneCheckpoint(cp Checkpoint) Checkpoint {
	out := cp
	out.Tables = make([]Table, len(cp.Tables))
	for i, t := range cp.Tables {
		t.Columns = slices.Clone(t.Columns)
		t.Key = slices.Clone(t.Key)
		out.Tables[i] = t
	}
	return out
}
