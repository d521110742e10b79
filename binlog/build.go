package binlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tributary-cdc/tributary"
)

var opType = map[byte]string{'c': "created", 'u': "updated", 'd': "deleted"}

// buildEvent encodes one row change as a CloudEvents body, all but its
// closing "txlast" member, which finish adds.
func buildEvent(o *Options, t *table, tx *transaction, idx int, op byte, before, after []any) (tributary.Event, error) {
	keyRow := after
	if op == 'd' {
		keyRow = before
	}
	keyValues := make([]string, len(t.key))
	for i, k := range t.key {
		s, err := keyString(&t.columns[k], keyRow[k])
		if err != nil {
			return tributary.Event{}, err
		}
		keyValues[i] = s
	}
	keyToken := tributary.EscapeKey(keyValues)
	subject := t.subjectPrefix + keyToken
	id := o.Name + ":" + tx.id + ":" + strconv.Itoa(idx)

	b := appendEnvelope(make([]byte, 0, 256+48*len(t.columns)), o, id, t.typePrefix+opType[op], subject, tx, idx)
	b = append(b, `,"schemaversion":"`...)
	b = append(b, t.version...)
	b = append(b, '"')
	b = append(b, `,"data":{"op":"`...)
	b = append(b, op)
	b = append(b, `","key":{`...)
	for i, k := range t.key {
		if i > 0 {
			b = append(b, ',')
		}
		c := &t.columns[k]
		b = append(b, c.quoted...)
		var err error
		if b, err = appendValue(b, c, keyRow[k]); err != nil {
			return tributary.Event{}, columnError(c, err)
		}
	}
	b = append(b, `},"before":`...)
	var err error
	var nullsBefore, nullsAfter []string
	if b, err = appendRow(b, t, before, &nullsBefore); err != nil {
		return tributary.Event{}, err
	}
	b = append(b, `,"after":`...)
	if b, err = appendRow(b, t, after, &nullsAfter); err != nil {
		return tributary.Event{}, err
	}
	if nullsBefore != nil || nullsAfter != nil {
		// A JSON document that is the literal null reads as null, like SQL
		// NULL: name those columns, so that the two stay apart.
		b = append(b, `,"jsonnull":{`...)
		if nullsBefore != nil {
			b = appendNames(append(b, `"before":`...), nullsBefore)
		}
		if nullsAfter != nil {
			if nullsBefore != nil {
				b = append(b, ',')
			}
			b = appendNames(append(b, `"after":`...), nullsAfter)
		}
		b = append(b, '}')
	}
	b = append(b, '}')

	return newEvent(o, tx, id, subject, idx, b), nil
}

// appendEnvelope appends the CloudEvents attributes every event has, up to
// and including txindex, after the opening brace.
func appendEnvelope(b []byte, o *Options, id, typ, subject string, tx *transaction, idx int) []byte {
	b = append(b, `{"specversion":"1.0","id":`...)
	b = appendString(b, id)
	b = append(b, `,"source":`...)
	b = appendString(b, "/tributary/"+o.Name)
	b = append(b, `,"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"subject":`...)
	b = appendString(b, subject[len(o.Prefix)+1:])
	b = append(b, `,"time":"`...)
	b = tx.time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","datacontenttype":"application/json","txid":`...)
	b = appendString(b, tx.id)
	if tx.gtid != "" {
		b = append(b, `,"gtid":`...)
		b = appendString(b, tx.gtid)
	}
	b = append(b, `,"binlogfile":`...)
	b = appendString(b, tx.begin.File)
	b = append(b, `,"binlogpos":`...)
	b = strconv.AppendUint(b, tx.begin.Offset, 10)
	b = append(b, `,"txindex":`...)
	return strconv.AppendInt(b, int64(idx), 10)
}

// schemaSubjectToken ends the subject of a table's schema_changed events:
// no escaped key can produce it, as escaping never writes '~'.
const schemaSubjectToken = "~schema"

// buildSchemaEvent encodes a DDL statement's change to one table as a
// CloudEvents body, all but its closing "txlast" member. columns is nil
// when the definition the statement left is not known.
func buildSchemaEvent(o *Options, ref tableRef, tx *transaction, idx int, stmt, defaultDB string, def *tableSchema) (tributary.Event, error) {
	subject := o.Prefix + "." + tributary.EscapeToken(ref.db) + "." + tributary.EscapeToken(ref.name) + "." + schemaSubjectToken
	id := o.Name + ":" + tx.id + ":" + strconv.Itoa(idx)
	b := appendEnvelope(make([]byte, 0, 512+len(stmt)), o, id, ref.db+"."+ref.name+".schema_changed", subject, tx, idx)
	if !utf8.ValidString(stmt) {
		return tributary.Event{}, fmt.Errorf("the statement is not valid UTF-8")
	}
	b = append(b, `,"data":{"statement":`...)
	b = appendString(b, stmt)
	b = append(b, `,"database":`...)
	b = appendString(b, defaultDB)
	// The definition, in the form LoadSchema reads back: DDL is rare, so
	// encoding/json's speed does not matter here.
	doc, err := json.Marshal(def.doc())
	if err != nil {
		return tributary.Event{}, err
	}
	b = append(b, ',')
	b = append(b, doc[1:]...) // its closing brace closes data
	return newEvent(o, tx, id, subject, idx, b), nil
}

// newEvent is an event of transaction tx with its place in it; finish
// completes the mark and the body.
func newEvent(o *Options, tx *transaction, id, subject string, idx int, body []byte) tributary.Event {
	return tributary.Event{
		ID:      id,
		Subject: subject,
		Time:    tx.time,
		Body:    body,
		Txn:     tributary.TxnMark{Source: o.Name, ID: tx.id, GTID: tx.gtid, Begin: tx.begin, Index: idx},
	}
}

func appendNames(b []byte, names []string) []byte {
	b = append(b, '[')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
	}
	return append(b, ']')
}

// appendRow appends a row image, and adds to jsonNulls the JSON columns
// whose document is the JSON literal null.
func appendRow(b []byte, t *table, row []any, jsonNulls *[]string) ([]byte, error) {
	if row == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '{')
	for i := range t.columns {
		if i > 0 {
			b = append(b, ',')
		}
		c := &t.columns[i]
		b = append(b, c.quoted...)
		var v any
		if i < len(row) {
			v = row[i]
		}
		var err error
		at := len(b)
		if b, err = appendValue(b, c, v); err != nil {
			return b, columnError(c, err)
		}
		if c.kind == kindJSON && v != nil && string(bytes.TrimSpace(b[at:])) == "null" {
			*jsonNulls = append(*jsonNulls, c.name)
		}
	}
	return append(b, '}'), nil
}

func columnError(c *column, err error) error { return fmt.Errorf("column %s: %w", c.name, err) }

// ErrDecode is matched (errors.Is) by every DecodeError.
var ErrDecode = errors.New("cannot decode a row")

// DecodeError says which row could not be turned into an event. The
// pipeline stops before that row: nothing after it is stored.
type DecodeError struct {
	Table string // db.table
	At    string // binlog file:offset of the rows event
	Txn   string // transaction id
	Row   int    // row index in the transaction
	Err   error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("decode row %d of transaction %s, table %s, at %s: %v (tributary stopped before this row and stored nothing after it; fix the cause, then run tributary resume)",
		e.Row, e.Txn, e.Table, e.At, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDecode) true.
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// finish closes the body with the transaction-end flag.
func finish(ev tributary.Event, last bool) tributary.Event {
	ev.Txn.Last = last
	if last {
		ev.Body = append(ev.Body, `,"txlast":true}`...)
	} else {
		ev.Body = append(ev.Body, `,"txlast":false}`...)
	}
	return ev
}
