package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/tributary-cdc/tributary/sink"
)

// Dialect is what one SQL database needs said its own way.
type Dialect interface {
	// Quote quotes an identifier.
	Quote(name string) string
	// Placeholder is the n-th (from 1) bind parameter of a statement.
	Placeholder(n int) string
	// ColumnType is the target column type that holds c's values exactly.
	ColumnType(c sink.Column) (string, error)
	// Value converts a value as the events hold it to a driver argument
	// for a column of type c; v is never nil (NULL is handled before).
	Value(c sink.Column, v json.RawMessage) (any, error)
	// ForUpdate is appended to the checkpoint query to lock its row.
	ForUpdate() string
	// Upsert is the clause after INSERT … VALUES that makes a row replace
	// the one with the same key: key are the key columns, values the
	// others (possibly none).
	Upsert(key, values []string) string
	// MaxParams is the most bind parameters one statement may have.
	MaxParams() int
	// AlterTable returns the statements that change a table's shape.
	AlterTable(table string, from, to sink.Table, renamed map[string]string) ([]string, error)
	// Swap replaces live tables by shadow ones: renames maps shadow names
	// to live names, drop lists live tables to remove. Readers must see the
	// tables before or after, never in between.
	Swap(ctx context.Context, db *sql.DB, renames [][2]string, drop []string) error
	// Tables lists the tables of the database whose name starts with prefix.
	Tables(ctx context.Context, db *sql.DB, prefix string) ([]string, error)
}

// Reopener is a Dialect whose DDL statements commit the open transaction
// (MySQL's implicit commit). After a Tx's DDL it starts a new transaction
// on the same connection, and the Tx locks its checkpoint again, so that
// the rows written after the DDL still commit with the checkpoint; what the
// DDL committed stays committed, and the dialect's package says what that
// means after a crash.
type Reopener interface {
	Reopen(ctx context.Context, tx *sql.Tx) error
}

// Bulk is a Dialect with a faster way than multi-row INSERT statements to
// write many rows (PostgreSQL's COPY). BulkUpsert writes rows, each a
// value per column of tb as Dialect.Value gave it (nil for NULL), into
// table with Upsert's meaning, inside the transaction open on conn (its
// statements run in it; conn.Raw reaches the driver's own connection).
type Bulk interface {
	BulkUpsert(ctx context.Context, conn *sql.Conn, table string, tb sink.Table, rows [][]any) error
}

// minBulk is the fewest rows worth a Bulk write.
const minBulk = 100

// Target is a SQL database holding one sink's read model.
//
// Every transaction is begun with db.BeginTx(ctx, nil), whatever the
// database: the checkpoint row, locked by Tx.Checkpoint, keeps two writers
// apart (SQLite's Open asks for BEGIN IMMEDIATE in its DSN, so that its
// write lock is taken at once and two writers never deadlock on an
// upgrade).
type Target struct {
	db   *sql.DB
	d    Dialect
	sink string
	// made says, for each model, that its checkpoint table was created by
	// this Target and not dropped since, so that Begin need not ask again.
	made [2]atomic.Bool
}

// New returns the Target of the sink named name on db.
func New(db *sql.DB, d Dialect, name string) *Target {
	return &Target{db: db, d: d, sink: name}
}

// Dialect is the target's dialect.
func (t *Target) Dialect() Dialect { return t.d }

// DB is the target's database handle.
func (t *Target) DB() *sql.DB { return t.db }

// shadowSuffix ends the names of a rebuild's tables.
func (t *Target) shadowSuffix() string { return "__" + t.sink + "_rebuild" }

// TableName is the name of a source table's read-model table in model m.
func (t *Target) TableName(m sink.Model, n sink.TableName) string {
	if m == sink.Shadow {
		return n.Table + t.shadowSuffix()
	}
	return n.Table
}

// CheckpointTable is the name of the table that holds model m's checkpoint:
// _tributary_<sink>_checkpoint, and for a rebuild
// _tributary_checkpoint__<sink>_rebuild, which names the sink once so that
// a sink name of up to MaxSinkName bytes fits every SQL target's limit.
func (t *Target) CheckpointTable(m sink.Model) string {
	if m == sink.Shadow {
		return "_tributary_checkpoint" + t.shadowSuffix()
	}
	return "_tributary_" + t.sink + "_checkpoint"
}

// MaxSinkName is the longest sink name whose checkpoint tables' names fit
// in PostgreSQL's 63 bytes (MySQL's limit is 64).
const MaxSinkName = 63 - len("_tributary_checkpoint__") - len("_rebuild")

func (t *Target) Close() error { return t.db.Close() }

// Checkpoint implements sink.Target.
func (t *Target) Checkpoint(ctx context.Context, m sink.Model) (sink.Checkpoint, error) {
	cp, _, err := t.readCheckpoint(ctx, t.db, m, "")
	if errors.Is(err, errNoTable) {
		return sink.Checkpoint{}, nil // no model yet
	}
	return cp, err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// errNoTable says a model's checkpoint table does not exist.
var errNoTable = errors.New("no checkpoint table")

// readCheckpoint reads model m's checkpoint and whether it is stored, or
// errNoTable.
func (t *Target) readCheckpoint(ctx context.Context, q querier, m sink.Model, lock string) (sink.Checkpoint, bool, error) {
	var doc string
	err := q.QueryRowContext(ctx, "SELECT doc FROM "+t.d.Quote(t.CheckpointTable(m))+" WHERE id = 1"+lock).Scan(&doc)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return sink.Checkpoint{}, false, nil
		}
		// Asked only when the query failed: the table is there on every
		// other read.
		if ok, terr := t.exists(ctx, t.CheckpointTable(m)); terr == nil && !ok {
			t.made[m].Store(false) // dropped by another process: Begin makes it again
			return sink.Checkpoint{}, false, errNoTable
		}
		return sink.Checkpoint{}, false, err
	}
	var cp sink.Checkpoint
	if err := json.Unmarshal([]byte(doc), &cp); err != nil {
		return sink.Checkpoint{}, false, fmt.Errorf("checkpoint table %s: %w", t.CheckpointTable(m), err)
	}
	return cp, true, nil
}

func (t *Target) exists(ctx context.Context, name string) (bool, error) {
	names, err := t.d.Tables(ctx, t.db, name)
	return slices.Contains(names, name), err
}

// Begin implements sink.Target. The transaction has a connection of its
// own, which a Bulk dialect reaches through sql.Conn.Raw.
func (t *Target) Begin(ctx context.Context, m sink.Model) (sink.Tx, error) {
	if err := t.makeCheckpointTable(ctx, m); err != nil {
		return nil, err
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &Tx{t: t, tx: tx, m: m, conn: conn}, nil
}

// makeCheckpointTable creates model m's checkpoint table unless this
// Target has already: once, not before every transaction. Promote and
// Discard, which drop or rename checkpoint tables, make Begin create them
// again; so does a readCheckpoint that finds one gone.
func (t *Target) makeCheckpointTable(ctx context.Context, m sink.Model) error {
	if t.made[m].Load() {
		return nil
	}
	// The document lists every table's columns: the dialect's type for a
	// LONGTEXT holds it whole (MySQL's TEXT stops at 64 KiB).
	doc, err := t.d.ColumnType(sink.Column{Name: "doc", Type: "longtext", Charset: "utf8mb4"})
	if err != nil {
		return fmt.Errorf("create checkpoint table: %w", err)
	}
	if _, err := t.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+t.d.Quote(t.CheckpointTable(m))+
		" (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, doc "+doc+" NOT NULL)"); err != nil {
		return fmt.Errorf("create checkpoint table: %w", err)
	}
	t.made[m].Store(true)
	return nil
}

// forgetCheckpointTables makes Begin create the checkpoint tables again,
// after Promote or Discard dropped or renamed them.
func (t *Target) forgetCheckpointTables() {
	for i := range t.made {
		t.made[i].Store(false)
	}
}

// Promote implements sink.Target.
func (t *Target) Promote(ctx context.Context) error {
	shadow, err := t.Checkpoint(ctx, sink.Shadow)
	if err != nil {
		return err
	}
	live, err := t.Checkpoint(ctx, sink.Live)
	if err != nil {
		return err
	}
	renames := [][2]string{{t.CheckpointTable(sink.Shadow), t.CheckpointTable(sink.Live)}}
	drop := []string{}
	if ok, err := t.exists(ctx, t.CheckpointTable(sink.Live)); err != nil {
		return err
	} else if ok {
		drop = append(drop, t.CheckpointTable(sink.Live))
	}
	for _, tb := range shadow.Tables {
		renames = append(renames, [2]string{t.TableName(sink.Shadow, tb.Name), t.TableName(sink.Live, tb.Name)})
	}
	for _, tb := range live.Tables {
		drop = append(drop, t.TableName(sink.Live, tb.Name))
	}
	defer t.forgetCheckpointTables()
	return t.d.Swap(ctx, t.db, renames, drop)
}

// Discard implements sink.Target: it drops every table of an earlier
// rebuild, recorded in its checkpoint or not (a database whose DDL commits
// at once may hold tables a crashed rebuild never recorded).
func (t *Target) Discard(ctx context.Context) error {
	defer t.forgetCheckpointTables()
	names, err := t.d.Tables(ctx, t.db, "")
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasSuffix(n, t.shadowSuffix()) {
			if _, err := t.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+t.d.Quote(n)); err != nil {
				return fmt.Errorf("drop %s: %w", n, err)
			}
		}
	}
	return nil
}

// Tx is one transaction on a model.
type Tx struct {
	t  *Target
	tx *sql.Tx
	m  sink.Model
	// stored says whether the checkpoint table holds its row.
	stored bool
	// held is the checkpoint as Checkpoint read it, if it did.
	held *sink.Checkpoint
	// conn is the transaction's connection, given back when it ends.
	conn *sql.Conn
	// prepared holds the full-chunk statements prepared in this
	// transaction, by text: executing one again skips the server's parse
	// of a statement with thousands of placeholders (and, with MySQL's
	// driver, a prepare and a close round trip). The transaction closes
	// them when it ends; DDL forgets them.
	prepared map[string]*sql.Stmt
}

func (x *Tx) name(n sink.TableName) string { return x.t.d.Quote(x.t.TableName(x.m, n)) }

// Checkpoint implements sink.Tx.
func (x *Tx) Checkpoint(ctx context.Context) (sink.Checkpoint, error) {
	cp, stored, err := x.lock(ctx)
	x.stored = stored
	if err == nil {
		x.held = &cp
	}
	return cp, err
}

// lock reads the model's checkpoint and locks its row. A checkpoint table
// gone since Begin made it was dropped by another process's Promote or
// Discard: the model moved.
func (x *Tx) lock(ctx context.Context) (sink.Checkpoint, bool, error) {
	cp, stored, err := x.t.readCheckpoint(ctx, x.tx, x.m, x.t.d.ForUpdate())
	if errors.Is(err, errNoTable) {
		return cp, false, fmt.Errorf("%s checkpoint table %s is gone: %w", x.m, x.t.CheckpointTable(x.m), sink.ErrMoved)
	}
	return cp, stored, err
}

// reopen starts a new transaction after DDL that committed the last one
// (Reopener), and checks that no other writer moved the checkpoint while
// it was not locked.
func (x *Tx) reopen(ctx context.Context) error {
	x.forgetPrepared() // they were prepared for the tables as they were
	r, ok := x.t.d.(Reopener)
	if !ok {
		return nil
	}
	if err := r.Reopen(ctx, x.tx); err != nil {
		return fmt.Errorf("start a transaction after DDL: %w", err)
	}
	cp, stored, err := x.lock(ctx)
	if err != nil {
		return fmt.Errorf("lock the %s checkpoint after DDL: %w", x.m, err)
	}
	if h := x.held; h != nil && (stored != x.stored || cp.Seq != h.Seq || cp.AsOf != h.AsOf) {
		return fmt.Errorf("%s checkpoint at sequence %d after DDL, %d before: %w", x.m, cp.Seq, h.Seq, sink.ErrMoved)
	}
	x.stored = stored
	return nil
}

// CreateTable implements sink.Tx.
func (x *Tx) CreateTable(ctx context.Context, tb sink.Table) error {
	if _, err := x.tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+x.name(tb.Name)); err != nil {
		return err
	}
	create, err := CreateStatement(x.t.d, x.t.TableName(x.m, tb.Name), tb)
	if err != nil {
		return err
	}
	if _, err = x.tx.ExecContext(ctx, create); err != nil {
		return err
	}
	return x.reopen(ctx)
}

// AlterTable implements sink.Tx.
func (x *Tx) AlterTable(ctx context.Context, from, to sink.Table, renamed map[string]string) error {
	stmts, err := x.t.d.AlterTable(x.t.TableName(x.m, from.Name), from, to, renamed)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := x.tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return x.reopen(ctx)
}

// RenameTable implements sink.Tx.
func (x *Tx) RenameTable(ctx context.Context, from sink.Table, to sink.TableName) error {
	if _, err := x.tx.ExecContext(ctx, "ALTER TABLE "+x.name(from.Name)+" RENAME TO "+x.name(to)); err != nil {
		return err
	}
	return x.reopen(ctx)
}

// DropTable implements sink.Tx.
func (x *Tx) DropTable(ctx context.Context, tb sink.Table) error {
	if _, err := x.tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+x.name(tb.Name)); err != nil {
		return err
	}
	return x.reopen(ctx)
}

// Truncate implements sink.Tx. It deletes rather than truncates: TRUNCATE
// is not transactional everywhere.
func (x *Tx) Truncate(ctx context.Context, tb sink.Table) error {
	_, err := x.tx.ExecContext(ctx, "DELETE FROM "+x.name(tb.Name))
	return err
}

// Delete implements sink.Tx.
func (x *Tx) Delete(ctx context.Context, tb sink.Table, keys []sink.Row) error {
	cols, err := columns(tb, tb.Key)
	if err != nil {
		return err
	}
	per := max(1, min(1000, x.t.d.MaxParams()/len(cols)))
	head := "DELETE FROM " + x.name(tb.Name) + " WHERE "
	if len(cols) == 1 {
		head += x.t.d.Quote(cols[0].Name) + " IN ("
	} else {
		head += "(" + QuoteAll(x.t.d, tb.Key) + ") IN ("
	}
	return x.chunks(ctx, head, ")", cols, keys, per, len(cols) > 1)
}

// Upsert implements sink.Tx: one INSERT per chunk of rows, whose conflict
// clause (Dialect.Upsert) replaces the row of a key that exists; or, for
// many rows, the Bulk dialect's way.
func (x *Tx) Upsert(ctx context.Context, tb sink.Table, rows []sink.Row) error {
	if b, ok := x.t.d.(Bulk); ok && len(rows) >= minBulk {
		// One array holds every row's values, each row a slice of it.
		n := len(tb.Columns)
		flat := make([]any, 0, len(rows)*n)
		vals := make([][]any, len(rows))
		for i, r := range rows {
			var err error
			if flat, err = x.appendValues(flat, tb.Columns, r); err != nil {
				return err
			}
			vals[i] = flat[i*n : (i+1)*n : (i+1)*n]
		}
		return b.BulkUpsert(ctx, x.conn, x.t.TableName(x.m, tb.Name), tb, vals)
	}
	names, values := UpsertColumns(tb)
	per := max(1, min(1000, x.t.d.MaxParams()/max(1, len(tb.Columns))))
	head := "INSERT INTO " + x.name(tb.Name) + " (" + QuoteAll(x.t.d, names) + ") VALUES "
	return x.chunks(ctx, head, x.t.d.Upsert(tb.Key, values), tb.Columns, rows, per, true)
}

// chunks runs head + one tuple per row + tail, per rows at a time. The
// statement's text is made once for each number of rows (every chunk but
// the last has per).
func (x *Tx) chunks(ctx context.Context, head, tail string, cols []sink.Column, rows []sink.Row, per int, paren bool) error {
	args := make([]any, 0, min(per, len(rows))*len(cols))
	var stmt string
	stmtRows := 0 // the rows stmt has tuples for
	for len(rows) > 0 {
		n := min(per, len(rows))
		args = args[:0]
		for _, row := range rows[:n] {
			var err error
			if args, err = x.appendValues(args, cols, row); err != nil {
				return err
			}
		}
		if n != stmtRows {
			stmt, stmtRows = x.statement(head, tail, len(cols), n, paren), n
		}
		if err := x.exec(ctx, stmt, n == per, args); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// exec runs stmt with args; a full chunk's statement, which the next full
// chunk runs again, through x.prepared.
func (x *Tx) exec(ctx context.Context, stmt string, full bool, args []any) error {
	if !full {
		_, err := x.tx.ExecContext(ctx, stmt, args...)
		return err
	}
	ps := x.prepared[stmt]
	if ps == nil {
		var err error
		if ps, err = x.tx.PrepareContext(ctx, stmt); err != nil {
			return err
		}
		if x.prepared == nil {
			x.prepared = map[string]*sql.Stmt{}
		}
		x.prepared[stmt] = ps
	}
	_, err := ps.ExecContext(ctx, args...)
	return err
}

// forgetPrepared closes the statements of x.prepared.
func (x *Tx) forgetPrepared() {
	for _, ps := range x.prepared {
		ps.Close()
	}
	x.prepared = nil
}

// statement is head, n tuples of cols placeholders each, and tail.
func (x *Tx) statement(head, tail string, cols, n int, paren bool) string {
	var b strings.Builder
	b.WriteString(head)
	p := 0
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if paren {
			b.WriteByte('(')
		}
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			p++
			b.WriteString(x.t.d.Placeholder(p))
		}
		if paren {
			b.WriteByte(')')
		}
	}
	b.WriteString(tail)
	return b.String()
}

// appendValues appends the driver arguments of row's values of cols: nil
// for NULL, else what Dialect.Value gives.
func (x *Tx) appendValues(args []any, cols []sink.Column, row sink.Row) ([]any, error) {
	for _, c := range cols {
		v := row[c.Name]
		if v == nil {
			args = append(args, nil)
			continue
		}
		out, err := x.t.d.Value(c, v)
		if err != nil {
			return args, fmt.Errorf("column %s (%s) value %.80s: %w: %w", c.Name, c.Type, v, sink.ErrValue, err)
		}
		args = append(args, out)
	}
	return args, nil
}

// Commit implements sink.Tx.
func (x *Tx) Commit(ctx context.Context, cp sink.Checkpoint) error {
	doc, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	table := x.t.d.Quote(x.t.CheckpointTable(x.m))
	q := "INSERT INTO " + table + " (seq, doc, id) VALUES (" + x.t.d.Placeholder(1) + ", " + x.t.d.Placeholder(2) + ", 1)"
	if x.stored {
		q = "UPDATE " + table + " SET seq = " + x.t.d.Placeholder(1) + ", doc = " + x.t.d.Placeholder(2) + " WHERE id = 1"
	}
	if _, err := x.tx.ExecContext(ctx, q, cp.Seq, string(doc)); err != nil {
		return err
	}
	defer x.release()
	return x.tx.Commit()
}

// release gives the transaction's connection back to the pool.
func (x *Tx) release() {
	if x.conn != nil {
		x.conn.Close()
		x.conn = nil
	}
}

// Rollback implements sink.Tx.
func (x *Tx) Rollback() error {
	defer x.release()
	err := x.tx.Rollback()
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

func columns(tb sink.Table, names []string) ([]sink.Column, error) {
	out := make([]sink.Column, len(names))
	for i, n := range names {
		c, ok := tb.Column(n)
		if !ok {
			return nil, fmt.Errorf("table %s has no key column %s", tb.Name, n)
		}
		out[i] = c
	}
	return out, nil
}
