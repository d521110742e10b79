package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tributary-cdc/tributary/sink"
)

var errDone = errors.New("the transaction has ended")

// Tx is one transaction on a model. It writes nothing before Commit: its
// writes are buffered, one final state per key, and Commit stores them with
// the checkpoint. Tx.Checkpoint does not lock anything (a KV bucket has no
// locks); it takes the checkpoint entry's revision, and Commit stores
// nothing if another writer has moved the entry since (the error wraps
// sink.ErrMoved).
type Tx struct {
	b *bucket
	m sink.Model
	// rev is the checkpoint entry's revision as read (0: none); read says
	// whether it has been.
	rev  uint64
	read bool
	// writes indexes list by key.
	writes map[string]int
	list   []write
	// tables holds the rows of each table the transaction has read (by
	// TablePrefix) as it sees them: as stored, with its own writes over
	// them. set keeps them so, and a table is read from the bucket once.
	tables map[string]map[string]write
	done   bool
}

// Checkpoint implements sink.Tx.
func (x *Tx) Checkpoint(ctx context.Context) (sink.Checkpoint, error) {
	if x.done {
		return sink.Checkpoint{}, errDone
	}
	s, err := x.b.settled(ctx)
	if err != nil {
		return sink.Checkpoint{}, err
	}
	if x.read && s.rev != x.rev {
		return sink.Checkpoint{}, fmt.Errorf("%s model: checkpoint at revision %d, taken at %d: %w", x.m, s.rev, x.rev, sink.ErrMoved)
	}
	x.rev, x.read = s.rev, true
	return s.cp, nil
}

// begin takes the checkpoint's revision if Checkpoint has not.
func (x *Tx) begin(ctx context.Context) error {
	if x.done {
		return errDone
	}
	if x.read {
		return nil
	}
	_, err := x.Checkpoint(ctx)
	return err
}

func (x *Tx) set(w write) {
	if i, ok := x.writes[w.key]; ok {
		x.list[i] = w
	} else {
		x.writes[w.key] = len(x.list)
		x.list = append(x.list, w)
	}
	// A key's first token is its table's (no token holds '.').
	if rows, ok := x.tables[w.key[:strings.IndexByte(w.key, '.')+1]]; ok {
		if w.remove {
			delete(rows, w.key)
		} else {
			rows[w.key] = w
		}
	}
}

// rows returns the rows of a table as the transaction sees them: as stored,
// with its own writes over them. The map is the transaction's own, which
// set keeps current: callers iterate over a copy of its keys.
func (x *Tx) rows(ctx context.Context, l *layout) (map[string]write, error) {
	if rows, ok := x.tables[l.prefix]; ok {
		return rows, nil
	}
	if err := x.begin(ctx); err != nil {
		return nil, err
	}
	rows := map[string]write{}
	err := x.b.rows(ctx, l.prefix, func(e entry) error {
		rows[e.key] = write{key: e.key, value: e.data, jsonNull: e.header.Get(HeaderJSONNull)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the rows of %s: %w", l.t.Name, err)
	}
	for _, w := range x.list {
		switch {
		case !strings.HasPrefix(w.key, l.prefix):
		case w.remove:
			delete(rows, w.key)
		default:
			rows[w.key] = w
		}
	}
	x.tables[l.prefix] = rows
	return rows, nil
}

// purge removes every row of a table.
func (x *Tx) purge(ctx context.Context, t *sink.Table) error {
	l, err := layoutOf(t)
	if err != nil {
		return err
	}
	rows, err := x.rows(ctx, l)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		x.set(write{key: k, remove: true})
	}
	return nil
}

// CreateTable implements sink.Tx: the table's shape lives in the
// checkpoint, so creating it only removes the rows of any table of that
// name.
func (x *Tx) CreateTable(ctx context.Context, t sink.Table) error { return x.purge(ctx, &t) }

// AlterTable implements sink.Tx: every row of the table is written again in
// the new shape (and under its new key, if the key changed), as readers
// read the JSON.
func (x *Tx) AlterTable(ctx context.Context, from, to sink.Table, renamed map[string]string) error {
	return x.rewrite(ctx, &from, &to, renamed)
}

// RenameTable implements sink.Tx: every row moves to the keys of the new
// table name.
func (x *Tx) RenameTable(ctx context.Context, from sink.Table, to sink.TableName) error {
	dst := from
	dst.Name = to
	return x.rewrite(ctx, &from, &dst, nil)
}

// rewrite writes every row of table from again as a row of to, converted
// (see reshaperOf), removing it from its old key if its key changed; a row
// that comes out alike is left as it is.
func (x *Tx) rewrite(ctx context.Context, from, to *sink.Table, renamed map[string]string) error {
	r, err := reshaperOf(from, to, renamed)
	if err != nil {
		return err
	}
	rows, err := x.rows(ctx, r.from)
	if err != nil {
		return err
	}
	// Removals first: a row may move to a key another row moves from.
	var moved []write
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		w := rows[k]
		row, err := decode(w.value, w.jsonNull)
		if err != nil {
			return fmt.Errorf("table %s key %s: %w", from.Name, k, err)
		}
		nw, err := r.reshape(row)
		if err != nil {
			return fmt.Errorf("key %s: %w", k, err)
		}
		if nw.key == k && bytes.Equal(nw.value, w.value) && nw.jsonNull == w.jsonNull {
			continue
		}
		if nw.key != k {
			x.set(write{key: k, remove: true})
		}
		moved = append(moved, nw)
	}
	for _, w := range moved {
		x.set(w)
	}
	return nil
}

// DropTable implements sink.Tx.
func (x *Tx) DropTable(ctx context.Context, t sink.Table) error { return x.purge(ctx, &t) }

// Truncate implements sink.Tx.
func (x *Tx) Truncate(ctx context.Context, t sink.Table) error { return x.purge(ctx, &t) }

// Delete implements sink.Tx.
func (x *Tx) Delete(ctx context.Context, t sink.Table, keys []sink.Row) error {
	if err := x.begin(ctx); err != nil {
		return err
	}
	l, err := layoutOf(&t)
	if err != nil {
		return err
	}
	for _, k := range keys {
		key, err := l.keyOf(k)
		if err != nil {
			return err
		}
		x.set(write{key: key, remove: true})
	}
	return nil
}

// Upsert implements sink.Tx: a put replaces the key's value.
func (x *Tx) Upsert(ctx context.Context, t sink.Table, rows []sink.Row) error {
	if err := x.begin(ctx); err != nil {
		return err
	}
	l, err := layoutOf(&t)
	if err != nil {
		return err
	}
	for _, r := range rows {
		w, err := l.encode(r)
		if err != nil {
			return err
		}
		x.set(w)
	}
	return nil
}

// Commit implements sink.Tx.
func (x *Tx) Commit(ctx context.Context, cp sink.Checkpoint) error {
	if err := x.begin(ctx); err != nil {
		return err
	}
	doc, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	list := x.list
	x.end()
	if err := x.b.commit(ctx, x.rev, list, doc); err != nil {
		return fmt.Errorf("commit %d writes to the %s model: %w", len(list), x.m, err)
	}
	return nil
}

// Rollback implements sink.Tx: nothing was written, so it only forgets.
func (x *Tx) Rollback() error {
	x.end()
	return nil
}

func (x *Tx) end() {
	x.done, x.list, x.writes, x.tables = true, nil, nil, nil
}
