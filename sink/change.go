package sink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary"
)

// Op is what a change does.
type Op byte

const (
	OpCreate Op = 'c'
	OpUpdate Op = 'u'
	OpDelete Op = 'd'
	OpRead   Op = 'r' // a snapshot read: the row as it is, like an upsert
	OpSchema Op = 's' // a DDL event (docs/EVENTS.md, DDL events)
)

// Change is one stored event, decoded.
type Change struct {
	Seq   uint64
	Table TableName
	Op    Op
	// Before and After are the row's images (nil where the event has
	// none). The row's key is read from them, with the key columns of the
	// read model's table: data.key is not decoded.
	Before, After Row
	// Schema is a DDL event's statement and the table's definition after
	// it; nil for a row change.
	Schema *SchemaChange
	Time   time.Time
	TxID   string
	GTID   string
	Index  int
	Last   bool
}

// SchemaChange is a DDL event's data.
type SchemaChange struct {
	Statement string
	// Known is false when the event does not know the definition (its
	// columns are null): a sink cannot follow the table past it.
	Known bool
	// Gone is true when the statement dropped the table or renamed it away.
	Gone       bool
	Charset    string
	PrimaryKey []string
	Columns    []Column
}

// envelope is the part of the CloudEvents body a sink reads, row and DDL
// events alike, read in one pass.
type envelope struct {
	Subject string    `json:"subject"`
	Time    time.Time `json:"time"`
	TxID    string    `json:"txid"`
	GTID    string    `json:"gtid"`
	Index   int       `json:"txindex"`
	Last    bool      `json:"txlast"`
	Data    struct {
		// A row change.
		Op       string                     `json:"op"`
		Before   map[string]json.RawMessage `json:"before"`
		After    map[string]json.RawMessage `json:"after"`
		JSONNull struct {
			Before []string `json:"before"`
			After  []string `json:"after"`
		} `json:"jsonnull"`
		External json.RawMessage `json:"external"`
		// A DDL event.
		Statement  string   `json:"statement"`
		Charset    string   `json:"charset"` // null leaves it ""
		PrimaryKey []string `json:"primarykey"`
		Columns    []Column `json:"columns"`
	} `json:"data"`
}

// Decode reads a stored event's body. Large values moved out of the event
// (data.external) must have been put back first: Decode refuses an event
// that still names them.
func Decode(seq uint64, body []byte) (Change, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Change{}, fmt.Errorf("event %d: not a tributary event: %w", seq, err)
	}
	ch := Change{Seq: seq, Time: env.Time, TxID: env.TxID, GTID: env.GTID, Index: env.Index, Last: env.Last}
	db, rest, ok1 := strings.Cut(env.Subject, ".")
	table, key, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(key, ".") {
		return Change{}, fmt.Errorf("event %d: subject %q: want db.table.key", seq, env.Subject)
	}
	var okDB, okTable bool
	ch.Table.Database, okDB = tributary.UnescapeToken(db)
	ch.Table.Table, okTable = tributary.UnescapeToken(table)
	if !okDB || !okTable {
		return Change{}, fmt.Errorf("event %d: subject %q: database or table is not an escaped token (docs/EVENTS.md, Subject)", seq, env.Subject)
	}
	d := &env.Data
	if key == "~schema" {
		ch.Op = OpSchema
		ch.Schema = &SchemaChange{Statement: d.Statement, Known: d.Columns != nil, Gone: d.Columns != nil && len(d.Columns) == 0,
			Charset: d.Charset, PrimaryKey: d.PrimaryKey, Columns: d.Columns}
		return ch, nil
	}
	if len(d.External) > 0 && !bytes.Equal(d.External, []byte("null")) {
		return Change{}, fmt.Errorf("event %d: its large values are stored outside it (data.external); put them back before decoding", seq)
	}
	ch.Op = Op(firstByte(d.Op))
	switch ch.Op {
	case OpCreate, OpRead:
		if d.After == nil {
			return Change{}, fmt.Errorf("event %d: op %q without an after image", seq, d.Op)
		}
	case OpUpdate:
		if d.Before == nil || d.After == nil {
			return Change{}, fmt.Errorf("event %d: op u without both images", seq)
		}
	case OpDelete:
		if d.Before == nil {
			return Change{}, fmt.Errorf("event %d: op d without a before image", seq)
		}
	default:
		return Change{}, fmt.Errorf("event %d: unknown op %q", seq, d.Op)
	}
	ch.Before = nullsOf(d.Before, d.JSONNull.Before)
	ch.After = nullsOf(d.After, d.JSONNull.After)
	return ch, nil
}

func firstByte(s string) byte {
	if len(s) != 1 {
		return 0
	}
	return s[0]
}

var jsonNull = json.RawMessage("null")

// nullsOf turns an image's null values into SQL NULL (nil), except the
// columns named in jsonNull, whose value is the JSON document null.
func nullsOf(m map[string]json.RawMessage, jsonNulls []string) Row {
	if m == nil {
		return nil
	}
	for k, v := range m {
		if bytes.Equal(v, jsonNull) {
			m[k] = nil
		}
	}
	for _, k := range jsonNulls {
		m[k] = jsonNull
	}
	return Row(m)
}
