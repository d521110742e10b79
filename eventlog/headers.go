package eventlog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/tributary-cdc/tributary"
)

// Message headers. Every event carries its place in the source transaction,
// so that the last stored event alone says where to resume: the stream is
// the checkpoint. docs/EVENTS.md documents them; changing one breaks resume
// of existing streams.
//
// The place is one header, not one per field: every header is stored with
// every event and parsed into a map by every reader, so that replay speed
// and stream size follow the number of headers (docs/BENCHMARKS.md).
const (
	HeaderMark        = "Tributary-Mark"
	HeaderContentType = "Content-Type"

	contentType = "application/cloudevents+json"
)

// The fields of HeaderMark, in the order they are written.
const (
	markSource    = "src"
	markTxn       = "tx"
	markGTID      = "gtid"
	markIndex     = "i"
	markBegin     = "begin"
	markBeginSet  = "begin-gtids"
	markLast      = "last"
	markEnd       = "end"
	markEndSet    = "end-gtids"
	markSeparator = '&'
)

// Headers returns the headers tributary stores with an event placed by m.
func Headers(m tributary.TxnMark) nats.Header {
	return nats.Header{HeaderContentType: {contentType}, HeaderMark: {encodeMark(m)}}
}

// encodeMark writes m as key=value fields joined by '&', e.g.
// src=db-1&gtid=0-1-7&i=0&begin=binlog.000003:1011&begin-gtids=0-1-6
// with last=1, end and end-gtids added on a transaction's last row. Empty
// fields are left out, and so is tx when it is defaultTxn.
func encodeMark(m tributary.TxnMark) string {
	var b strings.Builder
	b.Grow(64 + len(m.Source) + len(m.ID) + len(m.GTID) + 2*len(m.Begin.File) + len(m.Begin.GTIDSet) + len(m.End.GTIDSet))
	field := func(k, v string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(markSeparator)
		}
		b.WriteString(k)
		b.WriteByte('=')
		escapeMarkValue(&b, v)
	}
	field(markSource, m.Source)
	if m.ID != defaultTxn(m) {
		field(markTxn, m.ID)
	}
	field(markGTID, m.GTID)
	field(markIndex, strconv.Itoa(m.Index))
	field(markBegin, m.Begin.FileOffset())
	field(markBeginSet, m.Begin.GTIDSet)
	if m.Last {
		field(markLast, "1")
		field(markEnd, m.End.FileOffset())
		field(markEndSet, m.End.GTIDSet)
	}
	return b.String()
}

// defaultTxn is the transaction id the binlog reader gives a transaction
// (tributary.TxnMark.ID): its GTID, or where it begins. The mark leaves out
// an id that is this.
func defaultTxn(m tributary.TxnMark) string {
	if m.GTID != "" {
		return m.GTID
	}
	return m.Begin.FileOffset()
}

// escapeMarkValue writes v with '%', '&', '=' and every byte outside
// printable ASCII as %HH, so that any binlog file name fits in one field of
// a header value. GTIDs, GTID sets and positions have none of them.
func escapeMarkValue(b *strings.Builder, v string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x21 || c > 0x7e || c == '%' || c == markSeparator || c == '=' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
}

func unescapeMarkValue(v string) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			out = append(out, v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", fmt.Errorf("%q: '%%' not followed by two hex digits", v)
		}
		n, err := strconv.ParseUint(v[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("%q: '%%' not followed by two hex digits", v)
		}
		out = append(out, byte(n))
		i += 2
	}
	return string(out), nil
}

// ErrNotAnEvent means a stored message lacks Tributary's headers: something
// else published into the stream's subjects.
var ErrNotAnEvent = errors.New("message is not a Tributary event")

func decodeHeaders(h nats.Header) (tributary.TxnMark, error) {
	v := h.Get(HeaderMark)
	if v == "" {
		if h.Get(legacySource) != "" {
			return decodeLegacyHeaders(h)
		}
		return tributary.TxnMark{}, ErrNotAnEvent
	}
	m, err := decodeMark(v)
	if err != nil {
		return m, fmt.Errorf("header %s: %w", HeaderMark, err)
	}
	return m, nil
}

func decodeMark(v string) (tributary.TxnMark, error) {
	var m tributary.TxnMark
	f := map[string]string{}
	for field := range strings.SplitSeq(v, string(markSeparator)) {
		k, val, ok := strings.Cut(field, "=")
		if !ok {
			return m, fmt.Errorf("field %q is not key=value", field)
		}
		if _, dup := f[k]; dup {
			return m, fmt.Errorf("field %s appears twice", k)
		}
		var err error
		if f[k], err = unescapeMarkValue(val); err != nil {
			return m, fmt.Errorf("field %s: %w", k, err)
		}
	}
	m.Source, m.ID, m.GTID = f[markSource], f[markTxn], f[markGTID]
	if m.Source == "" {
		return m, fmt.Errorf("no %s field", markSource)
	}
	var err error
	if m.Index, err = strconv.Atoi(f[markIndex]); err != nil || m.Index < 0 {
		return m, fmt.Errorf("field %s: %q is not a row index", markIndex, f[markIndex])
	}
	if m.Begin, err = decodePosition(f[markBegin], f[markBeginSet]); err != nil {
		return m, fmt.Errorf("field %s: %w", markBegin, err)
	}
	if m.ID == "" {
		m.ID = defaultTxn(m)
	}
	switch f[markLast] {
	case "":
	case "1":
		m.Last = true
		if m.End, err = decodePosition(f[markEnd], f[markEndSet]); err != nil {
			return m, fmt.Errorf("field %s: %w", markEnd, err)
		}
	default:
		return m, fmt.Errorf("field %s: %q, want 1", markLast, f[markLast])
	}
	return m, nil
}

// The headers of event format 1, which carried the mark one field per
// header. Streams written then still resume: only their last event is ever
// decoded.
const (
	legacySource     = "Tributary-Source"
	legacyTxn        = "Tributary-Txn"
	legacyGTID       = "Tributary-Gtid"
	legacyBegin      = "Tributary-Begin"
	legacyBeginGTIDs = "Tributary-Begin-Gtid-Set"
	legacyIndex      = "Tributary-Index"
	legacyLast       = "Tributary-Last"
	legacyEnd        = "Tributary-End"
	legacyEndGTIDs   = "Tributary-End-Gtid-Set"
)

func decodeLegacyHeaders(h nats.Header) (tributary.TxnMark, error) {
	var m tributary.TxnMark
	m.Source = h.Get(legacySource)
	m.ID = h.Get(legacyTxn)
	if m.Source == "" || m.ID == "" {
		return m, ErrNotAnEvent
	}
	m.GTID = h.Get(legacyGTID)
	var err error
	if m.Begin, err = decodePosition(h.Get(legacyBegin), h.Get(legacyBeginGTIDs)); err != nil {
		return m, fmt.Errorf("header %s: %w", legacyBegin, err)
	}
	if m.Index, err = strconv.Atoi(h.Get(legacyIndex)); err != nil {
		return m, fmt.Errorf("header %s: %w", legacyIndex, err)
	}
	m.Last = h.Get(legacyLast) == "true"
	if m.Last {
		if m.End, err = decodePosition(h.Get(legacyEnd), h.Get(legacyEndGTIDs)); err != nil {
			return m, fmt.Errorf("header %s: %w", legacyEnd, err)
		}
	}
	return m, nil
}

func decodePosition(fileOffset, gtids string) (tributary.Position, error) {
	p := tributary.Position{GTIDSet: gtids}
	if fileOffset == "" {
		if gtids == "" {
			return p, fmt.Errorf("no position")
		}
		return p, nil
	}
	var err error
	p.File, p.Offset, err = tributary.ParseFileOffset(fileOffset)
	return p, err
}
