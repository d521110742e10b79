package sink

import (
	"context"
	"errors"
	"time"
)

// Model says which of a sink's two read models a call is about: the live
// one readers query, or the shadow one a rebuild fills before it is swapped
// in.
type Model int

const (
	Live Model = iota
	Shadow
)

func (m Model) String() string {
	if m == Shadow {
		return "shadow"
	}
	return "live"
}

// Checkpoint is what a read model has applied: it is stored in the target,
// written in the same transaction as the rows it covers.
type Checkpoint struct {
	// Seq is the stream sequence of the last event applied (0: none).
	Seq uint64 `json:"seq"`
	// TxID and Time are the last applied source transaction's id and
	// commit time.
	TxID string    `json:"txid,omitempty"`
	Time time.Time `json:"time,omitzero"`
	// AsOf is set on a read model rebuilt as of a past point (the point, as
	// given): the projection leaves it there instead of carrying it on.
	AsOf string `json:"asof,omitempty"`
	// Tables are the shapes of the tables the model holds.
	Tables []Table `json:"tables"`
}

// Table returns the model's table for a source table.
func (c *Checkpoint) Table(n TableName) (*Table, bool) {
	for i := range c.Tables {
		if c.Tables[i].Name == n {
			return &c.Tables[i], true
		}
	}
	return nil, false
}

// Target is one read-model store: a SQL database, a KV bucket. The Runner
// is its only caller and never uses it from two goroutines at once; several
// processes (a projection and a rebuild) may use the same target, and
// Tx.Checkpoint plus Promote keep them from overwriting each other.
type Target interface {
	// Checkpoint returns a model's checkpoint, or the zero Checkpoint if
	// the model does not exist yet.
	Checkpoint(ctx context.Context, m Model) (Checkpoint, error)
	// Begin starts a transaction on a model, creating the model's
	// bookkeeping if it does not exist. Nothing the transaction writes is
	// visible to readers of the model before Commit, and a transaction not
	// committed leaves no trace.
	Begin(ctx context.Context, m Model) (Tx, error)
	// Promote makes the shadow model the live one, atomically: readers of
	// the live model see it as it was or as the shadow model is, never in
	// between, never empty. Tables the live model held and the shadow does
	// not are removed; the shadow model no longer exists afterwards.
	Promote(ctx context.Context) error
	// Discard removes the shadow model, if there is one.
	Discard(ctx context.Context) error
	Close() error
}

// Tx is one target transaction.
type Tx interface {
	// Checkpoint returns the model's checkpoint as stored, and holds it so
	// that no other writer can change it before the transaction ends.
	Checkpoint(ctx context.Context) (Checkpoint, error)
	// CreateTable creates a table of the model, replacing any table of that
	// name the model holds.
	CreateTable(ctx context.Context, t Table) error
	// AlterTable changes a table's shape from one to the other. renamed
	// maps new column names to old for renamed columns; a column of to
	// that is neither in from nor renamed is added (NULL in existing rows),
	// a column of from that is neither in to nor renamed is dropped.
	AlterTable(ctx context.Context, from, to Table, renamed map[string]string) error
	// RenameTable gives a table of the model, with its rows, the name of
	// another source table; the model holds no table of that name.
	RenameTable(ctx context.Context, from Table, to TableName) error
	// DropTable removes a table of the model.
	DropTable(ctx context.Context, t Table) error
	// Truncate removes every row of a table.
	Truncate(ctx context.Context, t Table) error
	// Delete removes the rows with the given keys (each Row holds t.Key's
	// columns); a key with no row is not an error.
	Delete(ctx context.Context, t Table, keys []Row) error
	// Upsert writes rows (full images), each replacing the row with the
	// same key if there is one; no key appears twice in one call.
	Upsert(ctx context.Context, t Table, rows []Row) error
	// Commit stores cp as the model's checkpoint and commits.
	Commit(ctx context.Context, cp Checkpoint) error
	// Rollback abandons the transaction; it is safe after Commit.
	Rollback() error
}

// ErrMoved says a read model's checkpoint is not where this writer left it:
// a rebuild swapped in another model, or another process applied events.
// The Runner starts again from the stored checkpoint.
var ErrMoved = errors.New("the read model's checkpoint moved")

// ErrValue marks a value a target cannot hold exactly; the error says which
// table, column and value, and the sink stops rather than change it.
var ErrValue = errors.New("value the target cannot hold")
