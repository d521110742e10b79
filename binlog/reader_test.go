package binlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/tributary-cdc/tributary"
)

// Constructed MySQL-flavour events (GTID_EVENT, QUERY BEGIN, rows, XID):
// MySQL 8 is not available here, so its transaction framing is covered on
// events built the way go-mysql decodes them.

type fakeCatalog struct{ staticCharsets }

// staticCharsets knows the charsets the tests use, and a server whose
// default is utf8mb4 with explicit_defaults_for_timestamp ON (MariaDB
// 10.11's defaults).
type staticCharsets struct{}

var testMaxLens = map[string]int{"utf8mb4": 4, "utf8mb3": 3, "latin1": 1, "binary": 1, "ucs2": 2, "ascii": 1}

func (staticCharsets) maxLen(cs string) (int, bool) { n, ok := testMaxLens[cs]; return n, ok }
func (staticCharsets) charsetOfCollation(name string) (string, bool) {
	cs, _, _ := strings.Cut(strings.ToLower(name), "_")
	if cs == "utf8" {
		cs = "utf8mb3"
	}
	_, ok := testMaxLens[cs]
	return cs, ok
}
func (staticCharsets) environment() (map[string]string, string, bool, error) {
	return map[string]string{}, "utf8mb4", false, nil
}

func (fakeCatalog) charsetOf(c uint64) (string, bool) {
	cs, ok := map[uint64]string{45: "utf8mb4", 8: "latin1", 63: "binary"}[c]
	return cs, ok
}
func (fakeCatalog) specialColumns(string, string) (map[string]kind, error) { return nil, nil }
func (fakeCatalog) liveTables([]tableRef, string, uint32) (map[tableRef]*tableSchema, error) {
	return nil, nil
}
func (fakeCatalog) forget() {}

const testUUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

var ordersMap = &replication.TableMapEvent{
	TableID: 77, Schema: []byte("shop"), Table: []byte("orders"), ColumnCount: 3,
	ColumnType:     []byte{mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_NEWDECIMAL},
	ColumnMeta:     []uint16{0, 200, 10<<8 | 2},
	ColumnName:     [][]byte{[]byte("id"), []byte("note"), []byte("total")},
	PrimaryKey:     []uint64{0},
	DefaultCharset: []uint64{45},
}

type binlogWriter struct {
	pos uint32
	ts  uint32
}

func (w *binlogWriter) event(t replication.EventType, size uint32, e replication.Event) *replication.BinlogEvent {
	w.pos += size
	return &replication.BinlogEvent{Header: &replication.EventHeader{EventType: t, LogPos: w.pos, EventSize: size, Timestamp: w.ts}, Event: e}
}

func (w *binlogWriter) txn(gno int64, rows ...[]any) []*replication.BinlogEvent {
	sid := uuid.MustParse(testUUID)
	evs := []*replication.BinlogEvent{
		w.event(replication.GTID_EVENT, 79, &replication.GTIDEvent{SID: sid[:], GNO: gno, ImmediateCommitTimestamp: uint64(time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC).UnixMicro())}),
		w.event(replication.QUERY_EVENT, 80, &replication.QueryEvent{Query: []byte("BEGIN")}),
		w.event(replication.TABLE_MAP_EVENT, 60, ordersMap),
	}
	for _, r := range rows {
		evs = append(evs, w.event(replication.WRITE_ROWS_EVENTv2, 50, &replication.RowsEvent{Table: ordersMap, TableID: 77, Rows: [][]any{r}}))
	}
	return append(evs, w.event(replication.XID_EVENT, 31, &replication.XIDEvent{XID: uint64(gno)}))
}

func newTestReader(t *testing.T, maxBatch int, start Start) (*reader, *[]tributary.Batch) {
	t.Helper()
	gset, err := mysql.ParseMysqlGTIDSet(testUUID + ":1-5")
	if err != nil {
		t.Fatal(err)
	}
	var got []tributary.Batch
	hist, err := newSchemaHistory(fakeCatalog{}, start.Schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &reader{
		opts: &Options{Name: "src", Prefix: "cdc", MaxBatch: maxBatch},
		log:  slog.New(slog.DiscardHandler), hist: hist,
		cat: fakeCatalog{}, gset: gset, gsetStr: gset.String(), file: "binlog.000007",
		tables: map[uint64]*table{}, skip: start.Skip, skipID: start.TxnID,
		emit: func(_ context.Context, b tributary.Batch) error { got = append(got, b); return nil },
	}
	return r, &got
}

func feed(t *testing.T, r *reader, evs []*replication.BinlogEvent) error {
	t.Helper()
	for _, ev := range evs {
		if err := r.handle(context.Background(), ev); err != nil {
			return err
		}
	}
	return nil
}

type shape struct {
	Whole   bool
	Indexes []int
	Lasts   []bool
}

func shapes(bs []tributary.Batch) []shape {
	var out []shape
	for _, b := range bs {
		s := shape{Whole: b.Whole}
		for _, e := range b.Events {
			s.Indexes = append(s.Indexes, e.Txn.Index)
			s.Lasts = append(s.Lasts, e.Txn.Last)
		}
		out = append(out, s)
	}
	return out
}

func row(id int32) []any { return []any{id, "n", "1.50"} }

func TestReaderSmallTransaction(t *testing.T) {
	r, got := newTestReader(t, 1000, Start{})
	w := &binlogWriter{pos: 4000, ts: 1_790_000_000}
	if err := feed(t, r, w.txn(6, row(1), row(2), row(3))); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]shape{{Whole: true, Indexes: []int{0, 1, 2}, Lasts: []bool{false, false, true}}}, shapes(*got)); diff != "" {
		t.Fatalf("batches (-want +got):\n%s", diff)
	}
	last := (*got)[0].Events[2]
	wantMark := tributary.TxnMark{
		Source: "src", ID: testUUID + ":6", GTID: testUUID + ":6", Index: 2, Last: true,
		Begin: tributary.Position{File: "binlog.000007", Offset: 4000, GTIDSet: testUUID + ":1-5"},
		End:   tributary.Position{File: "binlog.000007", Offset: 4000 + 79 + 80 + 60 + 3*50 + 31, GTIDSet: testUUID + ":1-6"},
	}
	if diff := cmp.Diff(wantMark, last.Txn); diff != "" {
		t.Fatalf("mark (-want +got):\n%s", diff)
	}
	if last.ID != "src:"+testUUID+":6:2" || last.Subject != "cdc.shop.orders.3" {
		t.Fatalf("event id, subject = %q, %q", last.ID, last.Subject)
	}
	var body map[string]any
	if err := json.Unmarshal(last.Body, &body); err != nil {
		t.Fatalf("body %s: %v", last.Body, err)
	}
	for k, want := range map[string]any{"time": "2026-11-25T10:00:00.123456Z", "txlast": true, "type": "shop.orders.created", "subject": "shop.orders.3", "txindex": 2.0, "binlogpos": 4000.0} {
		if body[k] != want {
			t.Errorf("body %s = %v, want %v", k, body[k], want)
		}
	}
}

// A transaction larger than MaxBatch is handed on in parts, holding back
// one row so that the last can be flagged once the commit is seen.
func TestReaderLargeTransactionInParts(t *testing.T) {
	r, got := newTestReader(t, 2, Start{})
	w := &binlogWriter{pos: 4000}
	evs := w.txn(6, row(1), row(2), row(3), row(4), row(5))
	evs = append(evs, w.txn(7, row(6), row(7))...)
	if err := feed(t, r, evs); err != nil {
		t.Fatal(err)
	}
	want := []shape{
		{Indexes: []int{0, 1}, Lasts: []bool{false, false}},
		{Indexes: []int{2, 3}, Lasts: []bool{false, false}},
		{Indexes: []int{4}, Lasts: []bool{true}},
		{Whole: true, Indexes: []int{0, 1}, Lasts: []bool{false, true}},
	}
	if diff := cmp.Diff(want, shapes(*got)); diff != "" {
		t.Fatalf("batches (-want +got):\n%s", diff)
	}
	if b := (*got)[3].Events[0].Txn.Begin; b.GTIDSet != testUUID+":1-6" {
		t.Fatalf("second transaction begins after %q, want %q", b.GTIDSet, testUUID+":1-6")
	}
}

// Resuming inside a transaction skips the rows already stored.
func TestReaderResumeSkipsStoredRows(t *testing.T) {
	r, got := newTestReader(t, 1000, Start{Skip: 2, TxnID: testUUID + ":6"})
	w := &binlogWriter{pos: 4000}
	if err := feed(t, r, w.txn(6, row(1), row(2), row(3), row(4))); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]shape{{Whole: false, Indexes: []int{2, 3}, Lasts: []bool{false, true}}}, shapes(*got)); diff != "" {
		t.Fatalf("batches (-want +got):\n%s", diff)
	}
}

func TestReaderResumeMismatch(t *testing.T) {
	r, _ := newTestReader(t, 1000, Start{Skip: 1, TxnID: testUUID + ":99"})
	w := &binlogWriter{pos: 4000}
	err := feed(t, r, w.txn(6, row(1), row(2)))
	if !errors.Is(err, ErrResumeMismatch) {
		t.Fatalf("feed = %v, want ErrResumeMismatch", err)
	}
}

// DDL is a transaction of its own: no event yet, but the GTID set moves on
// and cached table definitions are dropped.
func TestReaderDDLAdvancesGTIDSet(t *testing.T) {
	r, got := newTestReader(t, 1000, Start{})
	w := &binlogWriter{pos: 4000}
	sid := uuid.MustParse(testUUID)
	evs := w.txn(6, row(1))
	evs = append(evs,
		w.event(replication.GTID_EVENT, 79, &replication.GTIDEvent{SID: sid[:], GNO: 7}),
		w.event(replication.QUERY_EVENT, 120, &replication.QueryEvent{Query: []byte("ALTER TABLE shop.orders ADD COLUMN x INT")}))
	evs = append(evs, w.txn(8, row(2))...)
	if err := feed(t, r, evs); err != nil {
		t.Fatal(err)
	}
	if len(*got) != 3 {
		t.Fatalf("got %d batches, want 3 (row, DDL, row)", len(*got))
	}
	ddl := (*got)[1].Events
	if len(ddl) != 1 || ddl[0].Subject != "cdc.shop.orders.~schema" || ddl[0].Txn.ID != testUUID+":7" || !ddl[0].Txn.Last ||
		ddl[0].Txn.End.GTIDSet != testUUID+":1-7" {
		t.Fatalf("DDL batch %+v, want one schema_changed event of shop.orders ending the GTID 7 transaction", ddl)
	}
	var body struct {
		Type string
		Data struct {
			Statement string
			Columns   []ColumnInfo
		}
	}
	if err := json.Unmarshal(ddl[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != "shop.orders.schema_changed" || body.Data.Statement != "ALTER TABLE shop.orders ADD COLUMN x INT" || body.Data.Columns != nil {
		t.Fatalf("DDL event %s", ddl[0].Body)
	}
	if b := (*got)[2].Events[0].Txn.Begin.GTIDSet; b != testUUID+":1-7" {
		t.Fatalf("transaction after the DDL begins after %q, want %q", b, testUUID+":1-7")
	}
}

// A server without GTIDs writes DDL without a transaction around it: the
// statement is a transaction of its own.
func TestReaderDDLWithoutGTIDs(t *testing.T) {
	r, got := newTestReader(t, 1000, Start{})
	r.gset, r.gsetStr = nil, ""
	w := &binlogWriter{pos: 4000}
	q := w.event(replication.QUERY_EVENT, 120, &replication.QueryEvent{Schema: []byte("shop"), Query: []byte("RENAME TABLE orders TO orders_old, other.t TO shop.x")})
	if err := feed(t, r, []*replication.BinlogEvent{q}); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, b := range *got {
		for _, e := range b.Events {
			subjects = append(subjects, e.Subject)
		}
	}
	// other.t is included too (no --include); every table named gets one.
	want := []string{"cdc.shop.orders.~schema", "cdc.shop.orders_old.~schema", "cdc.other.t.~schema", "cdc.shop.x.~schema"}
	if diff := cmp.Diff(want, subjects); diff != "" {
		t.Fatalf("subjects (-want +got):\n%s", diff)
	}
	if e := (*got)[0].Events[3]; !e.Txn.Last || e.Txn.ID != "binlog.000007:4000" || e.Txn.End.Offset != 4120 {
		t.Fatalf("last event %+v, want the end of a transaction binlog.000007:4000 ending at 4120", e.Txn)
	}
}

// liveCatalog reads every table as one INT column, and counts its reads.
type liveCatalog struct {
	fakeCatalog
	reads *int
}

func (c liveCatalog) liveTables(tables []tableRef, _ string, _ uint32) (map[tableRef]*tableSchema, error) {
	*c.reads++
	out := map[tableRef]*tableSchema{}
	for _, t := range tables {
		out[t] = &tableSchema{columns: []ColumnInfo{{Name: t.name + "_id", Type: "int(11)"}}, primaryKey: []string{}}
	}
	return out, nil
}

// A statement naming several tables looks at the source once, and each
// table's event gets its own columns; excluded tables are not read.
func TestReaderDDLReadsLiveColumnsOnce(t *testing.T) {
	r, got := newTestReader(t, 1000, Start{})
	r.opts.Include = []string{"shop.*"}
	reads := 0
	r.cat = liveCatalog{reads: &reads}
	w := &binlogWriter{pos: 4000}
	sid := uuid.MustParse(testUUID)
	evs := []*replication.BinlogEvent{
		w.event(replication.GTID_EVENT, 79, &replication.GTIDEvent{SID: sid[:], GNO: 6}),
		w.event(replication.QUERY_EVENT, 120, &replication.QueryEvent{Schema: []byte("shop"), Query: []byte("RENAME TABLE a TO b, other.c TO other.d")}),
	}
	if err := feed(t, r, evs); err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Fatalf("%d reads of the source, want 1", reads)
	}
	var cols []string
	for _, e := range (*got)[0].Events {
		var body struct {
			Data struct{ Columns []ColumnInfo }
		}
		if err := json.Unmarshal(e.Body, &body); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, e.Subject+" "+body.Data.Columns[0].Name)
	}
	if diff := cmp.Diff([]string{"cdc.shop.a.~schema a_id", "cdc.shop.b.~schema b_id"}, cols); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

// A DDL statement read while it is the last thing in the binlog gets the
// source's definition, which wins over the history's, and a disagreement is
// logged; read behind the head, it gets the history's.
func TestReaderDDLDefinitionSource(t *testing.T) {
	baseline := []byte(`{"file":"binlog.000007","offset":4,"include":["shop.*"],"tables":[{"database":"shop","table":"a",` +
		`"charset":"utf8mb4","primarykey":["id"],"columns":[{"name":"id","type":"int(11)","nullable":false}]}]}`)
	for _, tc := range []struct {
		name    string
		cat     tableCatalog
		want    string
		warning bool
	}{
		{"at the head", liveCatalog{reads: new(int)}, `[{"name":"a_id","type":"int(11)","nullable":false}]`, true},
		{"behind the head", fakeCatalog{}, `[{"name":"id","type":"int(11)","nullable":false},{"name":"v","type":"int(11)","nullable":true}]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, got := newTestReader(t, 1000, Start{})
			r.opts.Include = []string{"shop.*"}
			r.cat = tc.cat
			schema, err := LoadSchema(baseline, nil, r.opts.Include)
			if err != nil {
				t.Fatal(err)
			}
			if r.hist, err = newSchemaHistory(fakeCatalog{}, schema, r.opts.Include); err != nil {
				t.Fatal(err)
			}
			var logged bytes.Buffer
			r.log = slog.New(slog.NewTextHandler(&logged, nil))
			w := &binlogWriter{pos: 4000}
			sid := uuid.MustParse(testUUID)
			err = feed(t, r, []*replication.BinlogEvent{
				w.event(replication.GTID_EVENT, 79, &replication.GTIDEvent{SID: sid[:], GNO: 6}),
				w.event(replication.QUERY_EVENT, 120, &replication.QueryEvent{Schema: []byte("shop"), Query: []byte("ALTER TABLE a ADD COLUMN v INT")}),
			})
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Data struct{ Columns json.RawMessage }
			}
			if err := json.Unmarshal((*got)[0].Events[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			if string(body.Data.Columns) != tc.want {
				t.Errorf("columns %s, want %s", body.Data.Columns, tc.want)
			}
			if warned := strings.Contains(logged.String(), "followed a DDL statement differently"); warned != tc.warning {
				t.Errorf("warning logged: %v, want %v; log:\n%s", warned, tc.warning, &logged)
			}
		})
	}
}

// CREATE TABLE … SELECT is one transaction: the DDL, then the rows it
// copied, then XID. Its rows are stored with the DDL event, not dropped as
// rows outside a transaction (MariaDB: a GTID that is not standalone;
// MySQL: the statement ends with START TRANSACTION). A DDL after MySQL's
// anonymous GTID is a transaction of its own; a SAVEPOINT inside a
// transaction opened by BEGIN is not.
func TestReaderDDLTransactions(t *testing.T) {
	const create = "CREATE TABLE `shop`.`orders` (id INT PRIMARY KEY, note VARCHAR(50), total DECIMAL(10,2))"
	sid := uuid.MustParse(testUUID)
	for _, tc := range []struct {
		name  string
		gtids string // the reader's GTID set: MariaDB's form or MySQL's
		evs   func(w *binlogWriter) []*replication.BinlogEvent
		want  []string // per batch: the events' types, each batch whole
	}{
		{"MariaDB CREATE TABLE … SELECT", "0-1-5", func(w *binlogWriter) []*replication.BinlogEvent {
			return []*replication.BinlogEvent{
				w.event(replication.MARIADB_GTID_EVENT, 38, &replication.MariadbGTIDEvent{GTID: mysql.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: 6}, Flags: 0x28}),
				w.event(replication.QUERY_EVENT, 200, &replication.QueryEvent{Schema: []byte("shop"), Query: []byte(create)}),
				w.event(replication.TABLE_MAP_EVENT, 60, ordersMap),
				w.event(replication.WRITE_ROWS_EVENTv1, 50, &replication.RowsEvent{Table: ordersMap, TableID: 77, Rows: [][]any{row(1)}}),
				w.event(replication.XID_EVENT, 31, &replication.XIDEvent{XID: 6}),
			}
		}, []string{"shop.orders.schema_changed shop.orders.created"}},
		{"MySQL CREATE TABLE … SELECT", "", func(w *binlogWriter) []*replication.BinlogEvent {
			return []*replication.BinlogEvent{
				w.event(replication.GTID_EVENT, 79, &replication.GTIDEvent{SID: sid[:], GNO: 6}),
				w.event(replication.QUERY_EVENT, 200, &replication.QueryEvent{Schema: []byte("shop"), Query: []byte(create + " START TRANSACTION")}),
				w.event(replication.TABLE_MAP_EVENT, 60, ordersMap),
				w.event(replication.WRITE_ROWS_EVENTv2, 50, &replication.RowsEvent{Table: ordersMap, TableID: 77, Rows: [][]any{row(1)}}),
				w.event(replication.XID_EVENT, 31, &replication.XIDEvent{XID: 6}),
			}
		}, []string{"shop.orders.schema_changed shop.orders.created"}},
		{"MySQL anonymous GTID, DDL then a transaction", "", func(w *binlogWriter) []*replication.BinlogEvent {
			return append([]*replication.BinlogEvent{
				w.event(replication.ANONYMOUS_GTID_EVENT, 79, &replication.GTIDEvent{SID: make([]byte, 16)}),
				w.event(replication.QUERY_EVENT, 120, &replication.QueryEvent{Schema: []byte("shop"), Query: []byte("ALTER TABLE orders ADD COLUMN c INT")}),
			}, w.txn(6, row(1))...)
		}, []string{"shop.orders.schema_changed", "shop.orders.created"}},
		{"MySQL SAVEPOINT before the first row", "", func(w *binlogWriter) []*replication.BinlogEvent {
			evs := w.txn(6, row(1))
			savepoint := w.event(replication.QUERY_EVENT, 90, &replication.QueryEvent{Schema: []byte("shop"), Query: []byte("SAVEPOINT `sp`")})
			return slices.Insert(evs, 2, savepoint) // after GTID and BEGIN
		}, []string{"shop.orders.created"}},
		{"MySQL anonymous GTID, SAVEPOINT before the first row", "", func(w *binlogWriter) []*replication.BinlogEvent {
			return []*replication.BinlogEvent{
				w.event(replication.ANONYMOUS_GTID_EVENT, 79, &replication.GTIDEvent{SID: make([]byte, 16)}),
				w.event(replication.QUERY_EVENT, 80, &replication.QueryEvent{Query: []byte("BEGIN")}),
				w.event(replication.QUERY_EVENT, 90, &replication.QueryEvent{Schema: []byte("shop"), Query: []byte("SAVEPOINT `sp`")}),
				w.event(replication.TABLE_MAP_EVENT, 60, ordersMap),
				w.event(replication.WRITE_ROWS_EVENTv2, 50, &replication.RowsEvent{Table: ordersMap, TableID: 77, Rows: [][]any{row(1)}}),
				w.event(replication.XID_EVENT, 31, &replication.XIDEvent{XID: 6}),
			}
		}, []string{"shop.orders.created"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, got := newTestReader(t, 1000, Start{})
			if tc.gtids != "" {
				gset, err := mysql.ParseMariadbGTIDSet(tc.gtids)
				if err != nil {
					t.Fatal(err)
				}
				r.gset, r.gsetStr = gset, gset.String()
			}
			if err := feed(t, r, tc.evs(&binlogWriter{pos: 4000})); err != nil {
				t.Fatal(err)
			}
			var have []string
			for _, b := range *got {
				var types []string
				for _, e := range b.Events {
					var body struct{ Type string }
					if err := json.Unmarshal(e.Body, &body); err != nil {
						t.Fatal(err)
					}
					types = append(types, body.Type)
				}
				if !b.Whole || !b.Events[len(b.Events)-1].Txn.Last {
					t.Errorf("batch %v is not a whole transaction ending in its last row", types)
				}
				have = append(have, strings.Join(types, " "))
			}
			if diff := cmp.Diff(tc.want, have); diff != "" {
				t.Errorf("batches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReaderRefusesMissingColumnNames(t *testing.T) {
	r, _ := newTestReader(t, 1000, Start{})
	noNames := replication.TableMapEvent{TableID: 77, Schema: []byte("shop"), Table: []byte("orders"), ColumnCount: 3,
		ColumnType: ordersMap.ColumnType, ColumnMeta: ordersMap.ColumnMeta, PrimaryKey: []uint64{0}, DefaultCharset: []uint64{45}}
	w := &binlogWriter{pos: 4000}
	evs := w.txn(6, row(1))
	evs[3].Event.(*replication.RowsEvent).Table = &noNames
	err := feed(t, r, evs)
	var de *DecodeError
	if !errors.As(err, &de) || !errors.Is(err, ErrDecode) || de.Table != "shop.orders" {
		t.Fatalf("feed = %v, want a DecodeError for shop.orders", err)
	}
}

// A MySQL compressed transaction (TRANSACTION_PAYLOAD_EVENT) gives the same
// events as the plain one, ending where the payload event ends.
func TestReaderCompressedTransaction(t *testing.T) {
	plain, want := newTestReader(t, 1000, Start{})
	w := &binlogWriter{pos: 4000, ts: 1_790_000_000}
	if err := feed(t, plain, w.txn(6, row(1), row(2))); err != nil {
		t.Fatal(err)
	}

	r, got := newTestReader(t, 1000, Start{})
	w = &binlogWriter{pos: 4000, ts: 1_790_000_000}
	evs := w.txn(6, row(1), row(2))
	// The GTID event stays outside; the rest goes into the payload, whose
	// decompressed events carry no positions.
	var inner []*replication.BinlogEvent
	for _, ev := range evs[1:] {
		h := *ev.Header
		h.LogPos = 0
		inner = append(inner, &replication.BinlogEvent{Header: &h, Event: ev.Event})
	}
	end := evs[len(evs)-1].Header.LogPos
	payload := &replication.BinlogEvent{
		Header: &replication.EventHeader{EventType: replication.TRANSACTION_PAYLOAD_EVENT, LogPos: end, EventSize: end - evs[0].Header.LogPos},
		Event:  &replication.TransactionPayloadEvent{Events: inner},
	}
	if err := feed(t, r, []*replication.BinlogEvent{evs[0], payload}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*want, *got); diff != "" {
		t.Fatalf("compressed transaction (-plain +compressed):\n%s", diff)
	}
	if e := (*got)[0].Events[1].Txn.End; e.Offset != uint64(end) {
		t.Fatalf("transaction ends at %d, want %d, where the payload event ends", e.Offset, end)
	}
}

// A partial JSON update (MySQL's binlog_row_value_options=PARTIAL_JSON)
// holds only the changed part of a document: refused, never skipped.
func TestReaderRefusesPartialJSON(t *testing.T) {
	r, got := newTestReader(t, 1000, Start{})
	w := &binlogWriter{pos: 4000}
	evs := w.txn(6, row(1))
	evs[3].Header.EventType = replication.PARTIAL_UPDATE_ROWS_EVENT
	err := feed(t, r, evs)
	if !errors.Is(err, tributary.ErrPreflight) || !strings.Contains(err.Error(), "binlog_row_value_options=''") {
		t.Fatalf("partial JSON update: %v, want ErrPreflight naming binlog_row_value_options", err)
	}
	if len(*got) != 0 {
		t.Fatalf("%d batches handed on, want none", len(*got))
	}
}

// A panic of go-mysql's parser, which its BinlogSyncer reports as a stream
// error, stops the pipeline as a decode error naming where, instead of
// being retried for ever; other stream errors are retried.
func TestClassifyStreamError(t *testing.T) {
	from := tributary.Position{File: "binlog.000002", Offset: 4}
	err := classifyStreamError(from, "binlog.000002:1234", errors.New("panic runtime error: slice bounds out of range [12344:17]\nstack: ..."))
	if !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), "the event after binlog.000002:1234 (panic runtime error") ||
		!strings.Contains(err.Error(), "slice bounds out of range") || strings.Contains(err.Error(), "stack") {
		t.Fatalf("parser panic = %v, want a decode error naming the position and the panic, without the stack", err)
	}
	if err := classifyStreamError(from, "binlog.000002:1234", errors.New("connection reset by peer")); errors.Is(err, ErrDecode) {
		t.Fatalf("a connection error = %v, classified as a decode error", err)
	}
}
