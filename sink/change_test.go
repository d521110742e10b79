package sink

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// raw is a value as an event holds it.
func raw(s string) json.RawMessage { return json.RawMessage(s) }

var eventTime = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// Event bodies in the form of docs/EVENTS.md, as the binlog side writes them.
const (
	createBody = `{"specversion":"1.0","id":"shop:0-1-7:0","source":"/tributary/shop","type":"shop.orders.created",` +
		`"subject":"shop.orders.42","time":"2026-11-25T10:00:00Z","datacontenttype":"application/json",` +
		`"txid":"0-1-7","gtid":"0-1-7","binlogfile":"binlog.000003","binlogpos":1011,"txindex":0,` +
		`"schemaversion":"0123456789abcdef",` +
		`"data":{"op":"c","key":{"id":42},"before":null,` +
		`"after":{"id":42,"status":"paid","total":"99.90","tags":["a","c"],"note":null}},"txlast":false}`
	updateKeyBody = `{"specversion":"1.0","id":"shop:0-1-7:1","source":"/tributary/shop","type":"shop.orders.updated",` +
		`"subject":"shop.orders.43","time":"2026-11-25T10:00:00Z","datacontenttype":"application/json",` +
		`"txid":"0-1-7","gtid":"0-1-7","binlogfile":"binlog.000003","binlogpos":1011,"txindex":1,` +
		`"data":{"op":"u","key":{"id":43},` +
		`"before":{"id":42,"status":"paid","total":"99.90"},` +
		`"after":{"id":43,"status":"shipped","total":"99.90"}},"txlast":true}`
	deleteBody = `{"specversion":"1.0","id":"shop:binlog.000003%3A4:0","source":"/tributary/shop","type":"shop.lines.deleted",` +
		`"subject":"shop.lines.7,2","time":"2026-11-25T10:00:00.123456Z","datacontenttype":"application/json",` +
		`"txid":"binlog.000003:4","binlogfile":"binlog.000003","binlogpos":4,"txindex":3,` +
		`"data":{"op":"d","key":{"order_id":7,"line":2},"before":{"order_id":7,"line":2,"sku":"X-1"},"after":null},` +
		`"txlast":true}`
	jsonNullBody = `{"specversion":"1.0","id":"shop:0-1-9:0","source":"/tributary/shop","type":"shop.docs.updated",` +
		`"subject":"shop.docs.1","time":"2026-11-25T10:00:00Z","datacontenttype":"application/json",` +
		`"txid":"0-1-9","gtid":"0-1-9","binlogfile":"binlog.000003","binlogpos":2048,"txindex":0,` +
		`"data":{"op":"u","key":{"id":1},` +
		`"before":{"id":1,"doc":null,"meta":null,"body":{"k":[1,"x",null]}},` +
		`"after":{"id":1,"doc":null,"meta":null,"body":null},` +
		`"jsonnull":{"before":["meta"],"after":["doc","body"]}},"txlast":true}`
	ddlBody = `{"specversion":"1.0","id":"shop:0-1-12:0","source":"/tributary/shop",` +
		`"type":"shop.orders.schema_changed","subject":"shop.orders.~schema",` +
		`"time":"2026-11-25T10:00:00Z","datacontenttype":"application/json","txid":"0-1-12","gtid":"0-1-12",` +
		`"binlogfile":"binlog.000003","binlogpos":5120,"txindex":0,` +
		`"data":{"statement":"ALTER TABLE shop.orders ADD COLUMN note TEXT","database":"shop",` +
		`"charset":"utf8mb4","primarykey":["id"],` +
		`"columns":[{"name":"id","type":"int(11)","nullable":false},` +
		`{"name":"note","type":"text","nullable":true,"charset":"utf8mb4"}]},` +
		`"txlast":true}`
	droppedBody = `{"specversion":"1.0","id":"shop:0-1-13:0","source":"/tributary/shop",` +
		`"type":"shop.orders.schema_changed","subject":"shop.orders.~schema",` +
		`"time":"2026-11-25T10:00:00Z","datacontenttype":"application/json","txid":"0-1-13","gtid":"0-1-13",` +
		`"binlogfile":"binlog.000003","binlogpos":6000,"txindex":0,` +
		`"data":{"statement":"DROP TABLE shop.orders","database":"shop",` +
		`"charset":null,"primarykey":[],"columns":[]},"txlast":true}`
	unknownBody = `{"specversion":"1.0","id":"shop:0-1-14:0","source":"/tributary/shop",` +
		`"type":"shop.orders.schema_changed","subject":"shop.orders.~schema",` +
		`"time":"2026-11-25T10:00:00Z","datacontenttype":"application/json","txid":"0-1-14","gtid":"0-1-14",` +
		`"binlogfile":"binlog.000003","binlogpos":7000,"txindex":0,` +
		`"data":{"statement":"ALTER TABLE shop.orders ADD PERIOD FOR p(a, b)","database":"shop",` +
		`"charset":null,"primarykey":null,"columns":null},"txlast":true}`
	externalBody = `{"specversion":"1.0","id":"shop:0-1-9:0","source":"/tributary/shop","type":"shop.files.created",` +
		`"subject":"shop.files.1","time":"2026-11-25T10:00:00Z","datacontenttype":"application/json",` +
		`"txid":"0-1-9","gtid":"0-1-9","binlogfile":"binlog.000003","binlogpos":9000,"txindex":0,` +
		`"data":{"op":"c","key":{"id":1},"before":null,"after":{"id":1,"body":null},` +
		`"external":{"after":{"body":{"bucket":"TRIBUTARY_SHOP_VALUES","name":"shop:0-1-9:0/after/body",` +
		`"size":2000002,"digest":"SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU="}}}},"txlast":true}`
)

// rowBody is a minimal created event of subject with data as its data.
func rowBody(subject, data string) string {
	return `{"specversion":"1.0","subject":"` + subject + `","time":"2026-11-25T10:00:00Z","txid":"0-1-1",` +
		`"txindex":0,"data":` + data + `,"txlast":true}`
}

const minimalData = `{"op":"c","key":{"id":1},"before":null,"after":{"id":1}}`

func TestDecode(t *testing.T) {
	minimal := func(db, table string) Change {
		return Change{Seq: 1, Table: TableName{db, table}, Op: OpCreate,
			After: Row{"id": raw("1")}, Time: eventTime, TxID: "0-1-1", Last: true}
	}
	tests := []struct {
		name string
		body string
		want Change
	}{
		{
			name: "create",
			body: createBody,
			want: Change{Seq: 1, Table: TableName{"shop", "orders"}, Op: OpCreate,
				After: Row{"id": raw("42"), "status": raw(`"paid"`), "total": raw(`"99.90"`),
					"tags": raw(`["a","c"]`), "note": nil},
				Time: eventTime, TxID: "0-1-7", GTID: "0-1-7", Index: 0, Last: false},
		},
		{
			name: "update changing the key",
			body: updateKeyBody,
			want: Change{Seq: 1, Table: TableName{"shop", "orders"}, Op: OpUpdate,
				Before: Row{"id": raw("42"), "status": raw(`"paid"`), "total": raw(`"99.90"`)},
				After:  Row{"id": raw("43"), "status": raw(`"shipped"`), "total": raw(`"99.90"`)},
				Time:   eventTime, TxID: "0-1-7", GTID: "0-1-7", Index: 1, Last: true},
		},
		{
			name: "delete with a composite key and no GTID",
			body: deleteBody,
			want: Change{Seq: 1, Table: TableName{"shop", "lines"}, Op: OpDelete,
				Before: Row{"order_id": raw("7"), "line": raw("2"), "sku": raw(`"X-1"`)},
				Time:   eventTime.Add(123456 * time.Microsecond), TxID: "binlog.000003:4", Index: 3, Last: true},
		},
		{
			// doc holds the document null after, SQL NULL before; meta the
			// other way round; body SQL NULL after.
			name: "JSON document null apart from SQL NULL",
			body: jsonNullBody,
			want: Change{Seq: 1, Table: TableName{"shop", "docs"}, Op: OpUpdate,
				Before: Row{"id": raw("1"), "doc": nil, "meta": raw("null"), "body": raw(`{"k":[1,"x",null]}`)},
				After:  Row{"id": raw("1"), "doc": raw("null"), "meta": nil, "body": raw("null")},
				Time:   eventTime, TxID: "0-1-9", GTID: "0-1-9", Last: true},
		},
		{
			name: "data.external null is no external value",
			body: rowBody("shop.orders.1", `{"op":"c","key":{"id":1},"before":null,"after":{"id":1},"external":null}`),
			want: minimal("shop", "orders"),
		},
		{
			name: "escaped dot and space",
			body: rowBody("my%2Eshop.order%20lines.a%2Eb", minimalData),
			want: minimal("my.shop", "order lines"),
		},
		{
			name: "empty value",
			body: rowBody("%.%.%", minimalData),
			want: minimal("", ""),
		},
		{
			name: "non-ASCII",
			body: rowBody("Zo%C3%AB.caf%C3%A9_%F0%9F%98%80.Zo%C3%AB", minimalData),
			want: minimal("Zoë", "café_😀"),
		},
		{
			name: "escaped percent, wildcards and tilde",
			body: rowBody("%25.t%2A%3E%7E-x.1,2", minimalData),
			want: minimal("%", "t*>~-x"),
		},
		{
			name: "DDL event with a known definition",
			body: ddlBody,
			want: Change{Seq: 1, Table: TableName{"shop", "orders"}, Op: OpSchema,
				Schema: &SchemaChange{
					Statement: "ALTER TABLE shop.orders ADD COLUMN note TEXT", Known: true, Gone: false,
					Charset: "utf8mb4", PrimaryKey: []string{"id"},
					Columns: []Column{
						{Name: "id", Type: "int(11)", Nullable: false},
						{Name: "note", Type: "text", Nullable: true, Charset: "utf8mb4"},
					},
				},
				Time: eventTime, TxID: "0-1-12", GTID: "0-1-12", Last: true},
		},
		{
			name: "DDL event of a dropped table",
			body: droppedBody,
			want: Change{Seq: 1, Table: TableName{"shop", "orders"}, Op: OpSchema,
				Schema: &SchemaChange{Statement: "DROP TABLE shop.orders", Known: true, Gone: true,
					PrimaryKey: []string{}, Columns: []Column{}},
				Time: eventTime, TxID: "0-1-13", GTID: "0-1-13", Last: true},
		},
		{
			name: "DDL event with an unknown definition",
			body: unknownBody,
			want: Change{Seq: 1, Table: TableName{"shop", "orders"}, Op: OpSchema,
				Schema: &SchemaChange{Statement: "ALTER TABLE shop.orders ADD PERIOD FOR p(a, b)", Known: false, Gone: false},
				Time:   eventTime, TxID: "0-1-14", GTID: "0-1-14", Last: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(1, []byte(tc.body))
			if err != nil {
				t.Fatalf("Decode(1, %s) = %v, want no error", tc.body, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decode(1, %s) = %+v, want %+v; diff (-want +got):\n%s", tc.body, got, tc.want, diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"not JSON", `{"subject":`},
		{"JSON of another shape", `{"subject":42}`},
		{"bad time", `{"subject":"shop.orders.1","time":"yesterday","data":` + minimalData + `}`},
		{"empty body", ``},
		{"JSON null", `null`},
		{"no subject", `{"data":` + minimalData + `}`},
		{"subject of two tokens", rowBody("shop.orders", minimalData)},
		{"subject of four tokens", rowBody("shop.orders.1.2", minimalData)},
		{"truncated escape", rowBody("shop.orders%2.1", minimalData)},
		{"escape at the end", rowBody("shop%.orders.1", minimalData)},
		{"lower-case escape", rowBody("shop.a%2eb.1", minimalData)},
		{"non-hex escape", rowBody("sh%ZZop.orders.1", minimalData)},
		{"unknown op", rowBody("shop.orders.1", `{"op":"x","key":{"id":1},"before":null,"after":{"id":1}}`)},
		{"empty op", rowBody("shop.orders.1", `{"op":"","key":{"id":1},"before":null,"after":{"id":1}}`)},
		{"no op", rowBody("shop.orders.1", `{"key":{"id":1},"before":null,"after":{"id":1}}`)},
		{"op of two letters", rowBody("shop.orders.1", `{"op":"cu","key":{"id":1},"before":null,"after":{"id":1}}`)},
		{"create without after", rowBody("shop.orders.1", `{"op":"c","key":{"id":1},"before":null,"after":null}`)},
		{"update without before", rowBody("shop.orders.1", `{"op":"u","key":{"id":1},"before":null,"after":{"id":1}}`)},
		{"update without after", rowBody("shop.orders.1", `{"op":"u","key":{"id":1},"before":{"id":1}}`)},
		{"delete without before", rowBody("shop.orders.1", `{"op":"d","key":{"id":1},"before":null,"after":null}`)},
		{"image not an object", rowBody("shop.orders.1", `{"op":"c","key":{"id":1},"after":[1]}`)},
		{"large values stored outside", externalBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(1, []byte(tc.body))
			if err == nil {
				t.Errorf("Decode(1, %s) = %+v, want an error", tc.body, got)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, body := range []string{
		createBody, updateKeyBody, deleteBody, jsonNullBody, ddlBody, droppedBody, unknownBody, externalBody,
		rowBody("my%2Eshop.%.Zo%C3%AB", minimalData),
		rowBody("shop.orders%2.1", minimalData),
		rowBody("shop.orders.1", `{"op":"d","key":{"id":1},"before":{"id":null},"jsonnull":{"before":["id"],"after":["x"]}}`),
		`{"subject":"a.b.~schema","data":{"columns":[{}]}}`,
		`{}`, `null`, `[]`, ``,
	} {
		f.Add(uint64(1), []byte(body))
	}
	f.Fuzz(func(t *testing.T, seq uint64, body []byte) {
		ch, err := Decode(seq, body)
		if err != nil {
			return
		}
		if ch.Seq != seq {
			t.Errorf("Decode(%d, %q).Seq = %d, want %d", seq, body, ch.Seq, seq)
		}
		switch ch.Op {
		case OpSchema:
			if ch.Schema == nil {
				t.Errorf("Decode(%d, %q) = a DDL change with no Schema", seq, body)
			} else if ch.Schema.Gone && !ch.Schema.Known {
				t.Errorf("Decode(%d, %q) = a DDL change that is gone but unknown", seq, body)
			}
		case OpCreate, OpRead:
			if ch.After == nil || ch.Schema != nil {
				t.Errorf("Decode(%d, %q) = %+v, want an after image and no Schema", seq, body, ch)
			}
		case OpUpdate:
			if ch.Before == nil || ch.After == nil || ch.Schema != nil {
				t.Errorf("Decode(%d, %q) = %+v, want both images and no Schema", seq, body, ch)
			}
		case OpDelete:
			if ch.Before == nil || ch.Schema != nil {
				t.Errorf("Decode(%d, %q) = %+v, want a before image and no Schema", seq, body, ch)
			}
		default:
			t.Errorf("Decode(%d, %q).Op = %q, want one Decode knows", seq, body, ch.Op)
		}
		again, err := Decode(seq, body)
		if err != nil || !cmp.Equal(ch, again) {
			t.Errorf("Decode(%d, %q) twice = %+v, %v, want %+v", seq, body, again, err, ch)
		}
	})
}
