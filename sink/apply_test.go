package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// call is one call the applier made on the fake target.
type call struct {
	Op      string // begin, checkpoint, create, alter, rename, drop, truncate, delete, upsert, commit, rollback
	Model   Model
	Table   *Table // create, drop, truncate, delete, upsert; alter: from
	To      *Table // alter, rename
	Renamed map[string]string
	Rows    []Row  // delete: the keys; upsert: the rows
	Seq     uint64 // commit: the checkpoint's
	TxID    string // commit: the checkpoint's
}

// recorder is a Target and its Tx that only record what they are asked to
// do and keep each model's checkpoint as committed.
type recorder struct {
	stored map[Model]Checkpoint
	calls  []call
}

func newRecorder(live Checkpoint) *recorder {
	return &recorder{stored: map[Model]Checkpoint{Live: cloneCheckpoint(live)}}
}

func (r *recorder) Checkpoint(ctx context.Context, m Model) (Checkpoint, error) {
	return cloneCheckpoint(r.stored[m]), nil
}

func (r *recorder) Begin(ctx context.Context, m Model) (Tx, error) {
	r.calls = append(r.calls, call{Op: "begin", Model: m})
	return &recorderTx{r: r, m: m}, nil
}

func (r *recorder) Promote(ctx context.Context) error { return errors.New("not used") }
func (r *recorder) Discard(ctx context.Context) error { return errors.New("not used") }
func (r *recorder) Close() error                      { return nil }

type recorderTx struct {
	r *recorder
	m Model
}

func (tx *recorderTx) add(c call) error {
	c.Model = tx.m
	tx.r.calls = append(tx.r.calls, c)
	return nil
}

func (tx *recorderTx) Checkpoint(ctx context.Context) (Checkpoint, error) {
	return cloneCheckpoint(tx.r.stored[tx.m]), nil
}

func (tx *recorderTx) CreateTable(ctx context.Context, t Table) error {
	return tx.add(call{Op: "create", Table: cloneTable(t)})
}

func (tx *recorderTx) AlterTable(ctx context.Context, from, to Table, renamed map[string]string) error {
	return tx.add(call{Op: "alter", Table: cloneTable(from), To: cloneTable(to), Renamed: renamed})
}

func (tx *recorderTx) RenameTable(ctx context.Context, from Table, to TableName) error {
	renamed := cloneTable(from)
	renamed.Name = to
	return tx.add(call{Op: "rename", Table: cloneTable(from), To: renamed})
}

func (tx *recorderTx) DropTable(ctx context.Context, t Table) error {
	return tx.add(call{Op: "drop", Table: cloneTable(t)})
}

func (tx *recorderTx) Truncate(ctx context.Context, t Table) error {
	return tx.add(call{Op: "truncate", Table: cloneTable(t)})
}

func (tx *recorderTx) Delete(ctx context.Context, t Table, keys []Row) error {
	return tx.add(call{Op: "delete", Table: cloneTable(t), Rows: append([]Row(nil), keys...)})
}

func (tx *recorderTx) Upsert(ctx context.Context, t Table, rows []Row) error {
	return tx.add(call{Op: "upsert", Table: cloneTable(t), Rows: append([]Row(nil), rows...)})
}

func (tx *recorderTx) Commit(ctx context.Context, cp Checkpoint) error {
	tx.r.stored[tx.m] = cloneCheckpoint(cp)
	return tx.add(call{Op: "commit", Seq: cp.Seq, TxID: cp.TxID})
}

func (tx *recorderTx) Rollback() error { return tx.add(call{Op: "rollback"}) }

func cloneTable(t Table) *Table {
	c := cloneCheckpoint(Checkpoint{Tables: []Table{t}})
	return &c.Tables[0]
}

var (
	ordersName = TableName{"shop", "orders"}
	auditName  = TableName{"shop", "audit"}
	orders     = Table{Name: ordersName, Charset: "utf8mb4", Key: []string{"id"}, Columns: []Column{
		{Name: "id", Type: "int(11)"},
		{Name: "v", Type: "varchar(20)", Nullable: true, Charset: "utf8mb4"},
	}}
)

// key and row are a key and an image of orders.
func key(id int) Row { return Row{"id": json.RawMessage(fmt.Sprint(id))} }

func row(id int, v string) Row {
	return Row{"id": json.RawMessage(fmt.Sprint(id)), "v": json.RawMessage(fmt.Sprintf("%q", v))}
}

// event is a change with what add needs, and whether more events follow.
type event struct {
	ch   Change
	more bool
}

// txn numbers the changes of one source transaction from seq on, in
// table, the last one ending it; more says whether events follow them.
func txn(seq uint64, txid string, table TableName, more bool, changes ...Change) []event {
	var out []event
	for i, ch := range changes {
		ch.Seq, ch.TxID, ch.Table, ch.Index = seq+uint64(i), txid, table, i
		ch.Time = time.Date(2026, 11, 25, 10, 0, int(seq), 0, time.UTC)
		ch.Last = i == len(changes)-1
		out = append(out, event{ch, more || !ch.Last})
	}
	return out
}

func ins(r Row) Change    { return Change{Op: OpCreate, After: r} }
func upd(b, a Row) Change { return Change{Op: OpUpdate, Before: b, After: a} }
func del(r Row) Change    { return Change{Op: OpDelete, Before: r} }

func ddl(stmt string, pk []string, cols ...Column) Change {
	return Change{Op: OpSchema, Schema: &SchemaChange{Statement: stmt, Known: true, Charset: "utf8mb4", PrimaryKey: pk, Columns: cols}}
}

// renameTxn is the transaction of a statement renaming table from to to:
// a DDL event for each name, from's saying it is gone.
func renameTxn(seq uint64, stmt string, from, to TableName, cols []Column) []event {
	a := txn(seq, "t1", from, false, Change{Op: OpSchema, Schema: &SchemaChange{Statement: stmt, Known: true, Gone: true}})[0]
	b := txn(seq+1, "t1", to, false, ddl(stmt, []string{"id"}, cols...))[0]
	a.ch.Last, a.more = false, true
	b.ch.Index = 1
	return []event{a, b}
}

func join(runs ...[]event) []event {
	var out []event
	for _, r := range runs {
		out = append(out, r...)
	}
	return out
}

// apply gives the events to a new applier of model m that continues from
// cp, over a target whose stored live checkpoint is cp, and returns the
// calls it made.
func apply(t *testing.T, m Model, cp Checkpoint, batch int, events []event) ([]call, *recorder) {
	t.Helper()
	r := newRecorder(cp)
	r.stored[m] = cloneCheckpoint(cp)
	a := newApplier(r, m, cp, func(n TableName) bool { return n == ordersName || n.Table == "customers" || n.Table == "orders2" }, nil, batch)
	feed(t, a, events)
	return r.calls, r
}

// feed gives the events to a.
func feed(t *testing.T, a *applier, events []event) {
	t.Helper()
	for _, e := range events {
		if err := a.add(context.Background(), e.ch, e.more); err != nil {
			t.Fatalf("add(event %d) = %v", e.ch.Seq, err)
		}
	}
}

func withOrders() Checkpoint { return Checkpoint{Tables: []Table{orders}} }

var cmpCalls = cmpopts.EquateEmpty()

func TestApplierTransactions(t *testing.T) {
	o := &orders
	tests := []struct {
		name   string
		model  Model
		batch  int
		events []event
		want   []call
	}{
		{
			name:  "small transactions share a target transaction up to the batch size",
			model: Shadow,
			batch: 4,
			events: join(
				txn(1, "t1", ordersName, true, ins(row(1, "a")), ins(row(2, "b"))),
				txn(3, "t2", ordersName, true, ins(row(3, "c")), upd(row(1, "a"), row(1, "A"))),
				txn(5, "t3", ordersName, true, ins(row(4, "d"))),
				txn(6, "t4", ordersName, false, del(row(2, "b"))),
			),
			want: []call{
				{Op: "begin", Model: Shadow},
				// Key 1's insert and update fold into one upsert of its final row.
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{row(1, "A"), row(2, "b"), row(3, "c")}},
				{Op: "commit", Model: Shadow, Seq: 4, TxID: "t2"},
				{Op: "begin", Model: Shadow},
				// Key 2 was inserted by an earlier target transaction, so
				// its delete is written, before the table's upsert.
				{Op: "delete", Model: Shadow, Table: o, Rows: []Row{key(2)}},
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{row(4, "d")}},
				{Op: "commit", Model: Shadow, Seq: 6, TxID: "t4"},
			},
		},
		{
			name:  "the batch size reached inside a transaction commits at its end",
			model: Shadow,
			batch: 3,
			events: join(
				txn(1, "t1", ordersName, true, ins(row(1, "a")), ins(row(2, "b"))),
				txn(3, "t2", ordersName, true, ins(row(3, "c")), ins(row(4, "d"))),
			),
			want: []call{
				{Op: "begin", Model: Shadow},
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{row(1, "a"), row(2, "b"), row(3, "c")}},
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{row(4, "d")}},
				{Op: "commit", Model: Shadow, Seq: 4, TxID: "t2"},
			},
		},
		{
			name:  "a transaction larger than the batch is written in parts and committed at its end",
			model: Live,
			batch: 2,
			events: join(
				txn(1, "big", ordersName, false,
					ins(row(1, "a")), ins(row(2, "b")), ins(row(3, "c")), upd(row(1, "a"), row(1, "A")), ins(row(5, "e"))),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "a"), row(2, "b")}},
				// Key 1, written by the first part, is replaced by the upsert.
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(3, "c"), row(1, "A")}},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(5, "e")}},
				{Op: "commit", Model: Live, Seq: 5, TxID: "big"},
			},
		},
		{
			name:  "the end of what the reader knows commits a finished transaction",
			model: Live,
			batch: 100,
			events: join(
				txn(1, "t1", ordersName, false, ins(row(1, "a"))),
				txn(2, "t2", ordersName, false, ins(row(2, "b"))),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "a")}},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(2, "b")}},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t2"},
			},
		},
		{
			name:  "the end of what the reader knows inside a transaction commits nothing",
			model: Live,
			batch: 100,
			events: []event{
				{Change{Seq: 1, Table: ordersName, TxID: "t1", Op: OpCreate, After: row(1, "a")}, false},
			},
			want: []call{{Op: "begin", Model: Live}},
		},
		{
			name:  "tables left out advance the checkpoint and write nothing",
			model: Live,
			batch: 100,
			events: join(
				txn(1, "t1", auditName, true, ins(row(1, "a")), upd(row(1, "a"), row(1, "b"))),
				txn(3, "t2", auditName, false, ddl("ALTER TABLE shop.audit ADD COLUMN x INT", []string{"id"}, orders.Columns...)),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "commit", Model: Live, Seq: 3, TxID: "t2"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := apply(t, tc.model, withOrders(), tc.batch, tc.events)
			if diff := cmp.Diff(tc.want, got, cmpCalls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplierFolding(t *testing.T) {
	o := &orders
	tests := []struct {
		name   string
		model  Model
		events []event
		want   []call
	}{
		{
			// A live model may hold any key: one deleted in the run is
			// deleted, even if the run inserted it first.
			name:   "insert, update, delete of one key in live deletes the key",
			model:  Live,
			events: txn(1, "t1", ordersName, false, ins(row(1, "a")), upd(row(1, "a"), row(1, "b")), del(row(1, "b"))),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "delete", Model: Live, Table: o, Rows: []Row{key(1)}},
				{Op: "commit", Model: Live, Seq: 3, TxID: "t1"},
			},
		},
		{
			name:  "insert, update, delete of one key over transactions in live deletes the key",
			model: Live,
			events: join(
				txn(1, "t1", ordersName, true, ins(row(1, "a"))),
				txn(2, "t2", ordersName, true, upd(row(1, "a"), row(1, "b"))),
				txn(3, "t3", ordersName, false, del(row(1, "b"))),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "delete", Model: Live, Table: o, Rows: []Row{key(1)}},
				{Op: "commit", Model: Live, Seq: 3, TxID: "t3"},
			},
		},
		{
			// The key's first change in the run is an insert: it cannot be
			// in the shadow model yet, so its deletion writes nothing.
			name:   "insert, update, delete of one key in a shadow model writes nothing",
			model:  Shadow,
			events: txn(1, "t1", ordersName, false, ins(row(1, "a")), upd(row(1, "a"), row(1, "b")), del(row(1, "b"))),
			want: []call{
				{Op: "begin", Model: Shadow},
				{Op: "commit", Model: Shadow, Seq: 3, TxID: "t1"},
			},
		},
		{
			name:   "delete of a key in a shadow model deletes it",
			model:  Shadow,
			events: txn(1, "t1", ordersName, false, del(row(1, "a"))),
			want: []call{
				{Op: "begin", Model: Shadow},
				{Op: "delete", Model: Shadow, Table: o, Rows: []Row{key(1)}},
				{Op: "commit", Model: Shadow, Seq: 1, TxID: "t1"},
			},
		},
		{
			// The old key is gone, the new one upserted: no delete of it.
			name:   "update changing the key in live deletes the old key and upserts the new",
			model:  Live,
			events: txn(1, "t1", ordersName, false, upd(row(1, "a"), row(2, "a"))),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "delete", Model: Live, Table: o, Rows: []Row{key(1)}},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(2, "a")}},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
			},
		},
		{
			// Key 1 was not inserted in the run: it may hold a row.
			name:   "update changing the key in a shadow model deletes the old key and upserts the new",
			model:  Shadow,
			events: txn(1, "t1", ordersName, false, upd(row(1, "a"), row(2, "a"))),
			want: []call{
				{Op: "begin", Model: Shadow},
				{Op: "delete", Model: Shadow, Table: o, Rows: []Row{key(1)}},
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{row(2, "a")}},
				{Op: "commit", Model: Shadow, Seq: 1, TxID: "t1"},
			},
		},
		{
			name:   "key inserted then changed in live deletes the old key",
			model:  Live,
			events: txn(1, "t1", ordersName, false, ins(row(1, "a")), upd(row(1, "a"), row(2, "a"))),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "delete", Model: Live, Table: o, Rows: []Row{key(1)}},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(2, "a")}},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t1"},
			},
		},
		{
			// Key 1's first change in the run is an insert: nothing for it.
			name:   "key inserted then changed in a shadow model writes nothing for the old key",
			model:  Shadow,
			events: txn(1, "t1", ordersName, false, ins(row(1, "a")), upd(row(1, "a"), row(2, "a"))),
			want: []call{
				{Op: "begin", Model: Shadow},
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{row(2, "a")}},
				{Op: "commit", Model: Shadow, Seq: 2, TxID: "t1"},
			},
		},
		{
			name:   "inserts in a shadow model are one upsert",
			model:  Shadow,
			events: txn(1, "t1", ordersName, false, ins(row(1, "a")), ins(row(2, "b"))),
			want: []call{
				{Op: "begin", Model: Shadow},
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{row(1, "a"), row(2, "b")}},
				{Op: "commit", Model: Shadow, Seq: 2, TxID: "t1"},
			},
		},
		{
			// The upsert replaces whatever the key held: no delete first.
			name:   "insert in live is an upsert with no delete",
			model:  Live,
			events: txn(1, "t1", ordersName, false, ins(row(1, "a"))),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "a")}},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
			},
		},
		{
			name:   "update in live is an upsert with no delete",
			model:  Live,
			events: txn(1, "t1", ordersName, false, upd(row(1, "a"), row(1, "b"))),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "b")}},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
			},
		},
		{
			// The key's final state is a row: the upsert replaces the row
			// the key held, which needs no delete.
			name:   "delete then insert of one key in a shadow model is one upsert",
			model:  Shadow,
			events: txn(1, "t1", ordersName, false, del(row(1, "a")), ins(row(1, "b"))),
			want: []call{
				{Op: "begin", Model: Shadow},
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{row(1, "b")}},
				{Op: "commit", Model: Shadow, Seq: 2, TxID: "t1"},
			},
		},
		{
			name:   "delete then insert of one key in live is one upsert",
			model:  Live,
			events: txn(1, "t1", ordersName, false, del(row(1, "a")), ins(row(1, "b"))),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "b")}},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t1"},
			},
		},
		{
			name:   "snapshot read is an upsert in a shadow model",
			model:  Shadow,
			events: txn(1, "t1", ordersName, false, Change{Op: OpRead, After: row(1, "a")}),
			want: []call{
				{Op: "begin", Model: Shadow},
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{row(1, "a")}},
				{Op: "commit", Model: Shadow, Seq: 1, TxID: "t1"},
			},
		},
		{
			name:   "snapshot read is an upsert in live",
			model:  Live,
			events: txn(1, "t1", ordersName, false, Change{Op: OpRead, After: row(1, "a")}),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "a")}},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
			},
		},
		{
			// Per table, the deletes come before the upserts, whatever the
			// order of the changes.
			name:  "deletes before upserts",
			model: Live,
			events: txn(1, "t1", ordersName, false,
				ins(row(3, "c")), del(row(1, "a")), upd(row(4, "d"), row(4, "D")), del(row(2, "b"))),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "delete", Model: Live, Table: o, Rows: []Row{key(1), key(2)}},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(3, "c"), row(4, "D")}},
				{Op: "commit", Model: Live, Seq: 4, TxID: "t1"},
			},
		},
		{
			name:   "SQL NULL and the JSON document null are different keys",
			model:  Shadow,
			events: txn(1, "t1", ordersName, false, ins(Row{"id": nil}), ins(Row{"id": json.RawMessage("null")})),
			want: []call{
				{Op: "begin", Model: Shadow},
				{Op: "upsert", Model: Shadow, Table: o, Rows: []Row{{"id": nil}, {"id": json.RawMessage("null")}}},
				{Op: "commit", Model: Shadow, Seq: 2, TxID: "t1"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := apply(t, tc.model, withOrders(), 100, tc.events)
			if diff := cmp.Diff(tc.want, got, cmpCalls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplierDDL(t *testing.T) {
	o := &orders
	withNote := orders
	withNote.Columns = append(append([]Column(nil), orders.Columns...), Column{Name: "note", Type: "text", Nullable: true, Charset: "utf8mb4"})
	renamed := orders
	renamed.Columns = []Column{orders.Columns[0], {Name: "memo", Type: "varchar(20)", Nullable: true, Charset: "utf8mb4"}}
	customers := Table{Name: TableName{"shop", "customers"}, Charset: "utf8mb4", Key: []string{"id"},
		Columns: []Column{{Name: "id", Type: "int(11)"}, {Name: "email", Type: "varchar(100)", Charset: "utf8mb4"}}}
	gone := Change{Op: OpSchema, Schema: &SchemaChange{Statement: "DROP TABLE shop.orders", Known: true, Gone: true}}
	orders2 := orders
	orders2.Name = TableName{"shop", "orders2"}
	orders2Note := withNote
	orders2Note.Name = orders2.Name

	tests := []struct {
		name   string
		events []event
		want   []call
		tables []Table // in the checkpoint at the end
	}{
		{
			name: "rows before an ALTER are committed first",
			events: join(
				txn(1, "t1", ordersName, true, ins(row(1, "a")), ins(row(2, "b"))),
				txn(3, "t2", ordersName, false, ddl("ALTER TABLE shop.orders ADD COLUMN note TEXT", []string{"id"}, withNote.Columns...)),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "a"), row(2, "b")}},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t1"},
				{Op: "begin", Model: Live},
				{Op: "alter", Model: Live, Table: o, To: &withNote, Renamed: map[string]string{}},
				{Op: "commit", Model: Live, Seq: 3, TxID: "t2"},
			},
			tables: []Table{withNote},
		},
		{
			name: "rows after a DDL event join its transaction",
			events: join(
				txn(1, "t1", ordersName, true, ddl("ALTER TABLE shop.orders ADD COLUMN note TEXT", []string{"id"}, withNote.Columns...)),
				txn(2, "t2", ordersName, false, ins(Row{"id": json.RawMessage("1"), "v": nil, "note": json.RawMessage(`"n"`)})),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "alter", Model: Live, Table: o, To: &withNote, Renamed: map[string]string{}},
				{Op: "upsert", Model: Live, Table: &withNote, Rows: []Row{{"id": json.RawMessage("1"), "v": nil, "note": json.RawMessage(`"n"`)}}},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t2"},
			},
			tables: []Table{withNote},
		},
		{
			name: "renamed columns",
			events: join(
				txn(1, "t1", ordersName, true, ins(row(1, "a"))),
				txn(2, "t2", ordersName, false, ddl("ALTER TABLE shop.orders RENAME COLUMN v TO memo", []string{"id"}, renamed.Columns...)),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "a")}},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
				{Op: "begin", Model: Live},
				{Op: "alter", Model: Live, Table: o, To: &renamed, Renamed: map[string]string{"memo": "v"}},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t2"},
			},
			tables: []Table{renamed},
		},
		{
			name: "CREATE TABLE",
			events: join(
				txn(1, "t1", customers.Name, false, ddl("CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL)", []string{"id"}, customers.Columns...)),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "create", Model: Live, Table: &customers},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
			},
			tables: []Table{orders, customers},
		},
		{
			name: "DROP TABLE",
			events: join(
				txn(1, "t1", ordersName, true, ins(row(1, "a"))),
				txn(2, "t2", ordersName, false, gone),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "a")}},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
				{Op: "begin", Model: Live},
				{Op: "drop", Model: Live, Table: o},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t2"},
			},
			tables: []Table{},
		},
		{
			name:   "DROP TABLE of a table the model does not hold",
			events: txn(1, "t1", customers.Name, false, gone),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
			},
			tables: []Table{orders},
		},
		{
			name: "TRUNCATE",
			events: join(
				txn(1, "t1", ordersName, true, ins(row(1, "a"))),
				txn(2, "t2", ordersName, false, ddl("TRUNCATE TABLE shop.orders", []string{"id"}, orders.Columns...)),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "a")}},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
				{Op: "begin", Model: Live},
				{Op: "truncate", Model: Live, Table: o},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t2"},
			},
			tables: []Table{orders},
		},
		{
			// MariaDB's CREATE OR REPLACE drops the table and creates it
			// again, empty: the rows before it must go, whatever the shape.
			name: "CREATE OR REPLACE of a table the model holds",
			events: join(
				txn(1, "t1", ordersName, true, ins(row(1, "a"))),
				txn(2, "t2", ordersName, false, ddl("CREATE OR REPLACE TABLE shop.orders (id INT PRIMARY KEY, v VARCHAR(20))", []string{"id"}, orders.Columns...)),
			),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "upsert", Model: Live, Table: o, Rows: []Row{row(1, "a")}},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
				{Op: "begin", Model: Live},
				{Op: "create", Model: Live, Table: o},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t2"},
			},
			tables: []Table{orders},
		},
		{
			name:   "CREATE OR REPLACE changing the shape",
			events: txn(1, "t1", ordersName, false, ddl("/* x */ create or replace table shop.orders (id INT PRIMARY KEY, v VARCHAR(20), note TEXT)", []string{"id"}, withNote.Columns...)),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "create", Model: Live, Table: &withNote},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
			},
			tables: []Table{withNote},
		},
		{
			// The table exists: the statement did nothing on the source.
			name:   "CREATE TABLE IF NOT EXISTS of a table the model holds",
			events: txn(1, "t1", ordersName, false, ddl("CREATE TABLE IF NOT EXISTS shop.orders (id INT PRIMARY KEY, v VARCHAR(20))", []string{"id"}, orders.Columns...)),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
			},
			tables: []Table{orders},
		},
		{
			// RENAME TABLE gives an event for each name, in this order:
			// the rows go with the table.
			name:   "RENAME TABLE to a table the model holds",
			events: renameTxn(1, "RENAME TABLE shop.orders TO shop.orders2", ordersName, TableName{"shop", "orders2"}, orders.Columns),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "rename", Model: Live, Table: o, To: &orders2},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t1"},
			},
			tables: []Table{orders2},
		},
		{
			name:   "ALTER TABLE … RENAME TO with a new column",
			events: renameTxn(1, "ALTER TABLE shop.orders ADD COLUMN note TEXT, RENAME TO shop.orders2", ordersName, TableName{"shop", "orders2"}, withNote.Columns),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "rename", Model: Live, Table: o, To: &orders2},
				{Op: "alter", Model: Live, Table: &orders2, To: &orders2Note},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t1"},
			},
			tables: []Table{orders2Note},
		},
		{
			// The new name is not in the sink's tables: its event is not
			// seen, and the table leaves the model.
			name:   "RENAME TABLE out of the model",
			events: renameTxn(1, "RENAME TABLE shop.orders TO shop.archive", ordersName, TableName{"shop", "archive"}, orders.Columns),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "drop", Model: Live, Table: o},
				{Op: "commit", Model: Live, Seq: 2, TxID: "t1"},
			},
			tables: []Table{},
		},
		{
			name:   "DDL that changes no column",
			events: txn(1, "t1", ordersName, false, ddl("CREATE INDEX v ON shop.orders (v)", []string{"id"}, orders.Columns...)),
			want: []call{
				{Op: "begin", Model: Live},
				{Op: "commit", Model: Live, Seq: 1, TxID: "t1"},
			},
			tables: []Table{orders},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, r := apply(t, Live, withOrders(), 100, tc.events)
			if diff := cmp.Diff(tc.want, got, cmpCalls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.tables, r.stored[Live].Tables, cmpCalls); diff != "" {
				t.Errorf("checkpoint tables (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplierConfiguredKey checks that a key configured for a table wins
// over the primary key of its DDL event.
func TestApplierConfiguredKey(t *testing.T) {
	name := TableName{"shop", "customers"}
	cols := []Column{{Name: "id", Type: "int(11)"}, {Name: "email", Type: "varchar(100)", Charset: "utf8mb4"}}
	r := newRecorder(Checkpoint{})
	a := newApplier(r, Live, Checkpoint{}, func(TableName) bool { return true }, map[TableName][]string{name: {"email"}}, 100)
	feed(t, a, join(
		txn(1, "t1", name, true, ddl("CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100))", []string{"id"}, cols...)),
		txn(2, "t2", name, true, ins(Row{"id": json.RawMessage("1"), "email": json.RawMessage(`"a@b"`)})),
		txn(3, "t3", name, false, del(Row{"id": json.RawMessage("2"), "email": json.RawMessage(`"c@d"`)})),
	))
	want := Table{Name: name, Columns: cols, Charset: "utf8mb4", Key: []string{"email"}}
	wantCalls := []call{
		{Op: "begin", Model: Live},
		{Op: "create", Model: Live, Table: &want},
		// The deleted row's key is the configured one.
		{Op: "delete", Model: Live, Table: &want, Rows: []Row{{"email": json.RawMessage(`"c@d"`)}}},
		{Op: "upsert", Model: Live, Table: &want, Rows: []Row{{"id": json.RawMessage("1"), "email": json.RawMessage(`"a@b"`)}}},
		{Op: "commit", Model: Live, Seq: 3, TxID: "t3"},
	}
	if diff := cmp.Diff(wantCalls, r.calls, cmpCalls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestApplierBaseline checks that a model that holds nothing starts from
// the baseline's tables the sink holds, keyed as configured, and that two
// of them with one name stop it.
func TestApplierBaseline(t *testing.T) {
	ctx := context.Background()
	audit := orders
	audit.Name = auditName
	customers := Table{Name: TableName{"shop", "customers"}, Charset: "utf8mb4", Key: []string{"id"},
		Columns: []Column{{Name: "id", Type: "int(11)"}, {Name: "email", Type: "varchar(100)", Charset: "utf8mb4"}}}
	keyed := customers
	keyed.Key = []string{"email"}
	notAudit := func(n TableName) bool { return n != auditName }

	r := newRecorder(Checkpoint{})
	a := newApplier(r, Shadow, Checkpoint{}, notAudit, map[TableName][]string{customers.Name: {"email"}}, 100)
	if err := a.baseline(ctx, []Table{orders, audit, customers}); err != nil {
		t.Fatalf("baseline() = %v", err)
	}
	if err := a.commit(ctx); err != nil {
		t.Fatalf("commit() = %v", err)
	}
	want := []call{
		{Op: "begin", Model: Shadow},
		{Op: "create", Model: Shadow, Table: &orders},
		{Op: "create", Model: Shadow, Table: &keyed},
		{Op: "commit", Model: Shadow},
	}
	if diff := cmp.Diff(want, r.calls, cmpCalls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Table{orders, keyed}, r.stored[Shadow].Tables); diff != "" {
		t.Errorf("checkpoint tables (-want +got):\n%s", diff)
	}

	crm := orders
	crm.Name = TableName{"crm", "orders"}
	r = newRecorder(Checkpoint{})
	a = newApplier(r, Shadow, Checkpoint{}, notAudit, nil, 100)
	err := a.baseline(ctx, []Table{orders, crm})
	if !permanent(err) {
		t.Errorf("baseline(shop.orders, crm.orders) = %v, want an error retrying cannot cure", err)
	}
	want = []call{{Op: "begin", Model: Shadow}, {Op: "create", Model: Shadow, Table: &orders}, {Op: "rollback", Model: Shadow}}
	if diff := cmp.Diff(want, r.calls, cmpCalls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestApplierRedelivered(t *testing.T) {
	cp := withOrders()
	cp.Seq, cp.TxID = 10, "t10"
	r := newRecorder(cp)
	a := newApplier(r, Live, cp, func(TableName) bool { return true }, nil, 100)
	feed(t, a, join(
		txn(9, "t9", ordersName, false, ins(row(9, "old"))),
		txn(10, "t10", ordersName, false, ins(row(10, "old"))),
	))
	if len(r.calls) != 0 {
		t.Fatalf("calls for events 9 and 10 after a checkpoint at 10 = %+v, want none", r.calls)
	}
	feed(t, a, join(
		txn(11, "t11", ordersName, false, ins(row(11, "new"))),
		txn(11, "t11", ordersName, false, ins(row(11, "again"))),
	))
	want := []call{
		{Op: "begin", Model: Live},
		{Op: "upsert", Model: Live, Table: &orders, Rows: []Row{row(11, "new")}},
		{Op: "commit", Model: Live, Seq: 11, TxID: "t11"},
	}
	if diff := cmp.Diff(want, r.calls, cmpCalls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestApplierErrors(t *testing.T) {
	noKey := Table{Name: TableName{"shop", "log"}, Columns: []Column{{Name: "msg", Type: "text", Nullable: true, Charset: "utf8mb4"}}}
	moved := withOrders()
	moved.Seq = 7
	asOf := withOrders()
	asOf.AsOf = "seq 3"
	tests := []struct {
		name      string
		stored    Checkpoint // the target's
		from      Checkpoint // the applier's
		ch        Change
		moved     bool // the error wraps ErrMoved
		permanent bool // the error is one retrying cannot cure
	}{
		{
			name:   "stored checkpoint ahead",
			stored: moved, from: withOrders(),
			ch:    Change{Seq: 1, Table: ordersName, Op: OpCreate, After: row(1, "a"), Last: true},
			moved: true,
		},
		{
			name:   "stored checkpoint pinned as of a past point",
			stored: asOf, from: withOrders(),
			ch:    Change{Seq: 1, Table: ordersName, Op: OpCreate, After: row(1, "a"), Last: true},
			moved: true,
		},
		{
			name:   "row of a table with no key",
			stored: Checkpoint{Tables: []Table{noKey}}, from: Checkpoint{Tables: []Table{noKey}},
			ch:        Change{Seq: 1, Table: noKey.Name, Op: OpCreate, After: Row{"msg": json.RawMessage(`"x"`)}, Last: true},
			permanent: true,
		},
		{
			name:   "row of a table the model does not know",
			stored: withOrders(), from: withOrders(),
			ch:        Change{Seq: 1, Table: TableName{"shop", "items"}, Op: OpCreate, After: row(1, "a"), Last: true},
			permanent: true,
		},
		{
			name:   "image without the key column",
			stored: withOrders(), from: withOrders(),
			ch:        Change{Seq: 1, Table: ordersName, Op: OpDelete, Before: Row{"v": json.RawMessage(`"a"`)}, Last: true},
			permanent: true,
		},
		{
			name:   "DDL event with an unknown definition",
			stored: withOrders(), from: withOrders(),
			ch:        Change{Seq: 1, Table: ordersName, Op: OpSchema, Schema: &SchemaChange{Statement: "ALTER TABLE orders ADD PERIOD FOR p(a, b)"}, Last: true},
			permanent: true,
		},
		{
			name:   "renamed column missing from the definition after it",
			stored: withOrders(), from: withOrders(),
			ch: Change{Seq: 1, Table: ordersName, Op: OpSchema, Last: true,
				Schema: &SchemaChange{Statement: "ALTER TABLE orders RENAME COLUMN v TO memo", Known: true, PrimaryKey: []string{"id"},
					Columns: []Column{{Name: "id", Type: "int(11)"}, {Name: "other", Type: "int(11)"}}}},
			permanent: true,
		},
		{
			name:   "CREATE TABLE of a name another database's table has",
			stored: withOrders(), from: withOrders(),
			ch: Change{Seq: 1, Table: TableName{"crm", "orders"}, Op: OpSchema, Last: true,
				Schema: &SchemaChange{Statement: "CREATE TABLE orders (id INT PRIMARY KEY)", Known: true, PrimaryKey: []string{"id"},
					Columns: []Column{{Name: "id", Type: "int(11)"}}}},
			permanent: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder(tc.stored)
			a := newApplier(r, Live, tc.from, func(TableName) bool { return true }, nil, 100)
			err := a.add(context.Background(), tc.ch, false)
			if err == nil {
				t.Fatalf("add(%+v) = nil, want an error; calls: %+v", tc.ch, r.calls)
			}
			if got := errors.Is(err, ErrMoved); got != tc.moved {
				t.Errorf("add(%+v) = %v; errors.Is(ErrMoved) = %v, want %v", tc.ch, err, got, tc.moved)
			}
			if got := permanent(err); got != tc.permanent {
				t.Errorf("add(%+v) = %v; permanent = %v, want %v", tc.ch, err, got, tc.permanent)
			}
			if tc.moved {
				want := []call{{Op: "begin", Model: Live}, {Op: "rollback", Model: Live}}
				if diff := cmp.Diff(want, r.calls, cmpCalls); diff != "" {
					t.Errorf("calls (-want +got):\n%s", diff)
				}
			}
			for _, c := range r.calls {
				if c.Op == "commit" {
					t.Errorf("add(%+v) = %v, and committed: calls %+v", tc.ch, err, r.calls)
				}
			}
			if diff := cmp.Diff(tc.stored, r.stored[Live], cmpCalls); diff != "" {
				t.Errorf("stored checkpoint changed (-want +got):\n%s", diff)
			}
		})
	}
}
