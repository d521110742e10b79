package mysql

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/sink"
)

// Value converts a value as the events hold it (docs/EVENTS.md, Values) to
// what the server reads into the source's own type: the same value, never
// one the column would round or truncate. sql_mode does not reject what a
// column cannot hold, so what the server would change silently is checked
// here: numbers against their type's range, digits and bits (sink.Int,
// sink.Uint, sink.Decimal), ENUM and SET labels against the type's, in
// their own case. Text longer than its column and temporal text the server
// does not read are not checked: the events, read from a column of the
// same type, never hold them.
func (Dialect) Value(c sink.Column, v json.RawMessage) (any, error) {
	class, t, err := sink.ClassOf(c)
	if err != nil {
		return nil, err
	}
	switch class {
	case sink.ClassInt, sink.ClassYear:
		return sink.Int(t, v)
	case sink.ClassUint64, sink.ClassBit:
		// A number, not text: text into a BIT column is its bytes.
		return sink.Uint(t, v)
	case sink.ClassDecimal:
		return sink.Decimal(t, v)
	case sink.ClassFloat:
		// Read as float32, the column's own type: its float64 is exact, and
		// the server stores it back without rounding twice.
		return sink.Float(v, 32)
	case sink.ClassDouble:
		return sink.Float(v, 64)
	case sink.ClassTimestamp:
		s, err := sink.String(v)
		if err != nil {
			return nil, err
		}
		return timestamp(s)
	case sink.ClassBinary, sink.ClassGeometry:
		return sink.Bytes(v)
	case sink.ClassEnum:
		s, err := sink.String(v)
		if err != nil {
			return nil, err
		}
		if s != "" && !slices.Contains(t.Labels, s) {
			return nil, fmt.Errorf("%q is not a member of the ENUM", s)
		}
		return s, nil
	case sink.ClassSet:
		set, err := sink.Labels(v)
		if err != nil {
			return nil, err
		}
		for _, l := range set {
			if !slices.Contains(t.Labels, l) {
				return nil, fmt.Errorf("%q is not a member of the SET", l)
			}
		}
		return strings.Join(set, ","), nil
	case sink.ClassJSON:
		return string(v), nil // the document null is the text null
	}
	// DATE, DATETIME, TIME as the server writes them; text; UUID, INET4,
	// INET6 as text.
	return sink.String(v)
}

// timestamp turns an instant the events write as RFC 3339 in UTC into
// the server's text, for a session at +00:00, keeping its fractional
// digits. The zero value, which is no instant, has no Z and is the
// server's text already.
func timestamp(s string) (string, error) {
	if !strings.HasSuffix(s, "Z") {
		if strings.HasPrefix(s, "0000-00-00 00:00:00") {
			return s, nil
		}
		return "", fmt.Errorf("TIMESTAMP %q is neither an instant in UTC nor the zero value", s)
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil || s[10] != 'T' {
		return "", fmt.Errorf("TIMESTAMP %q is not RFC 3339", s)
	}
	return s[:10] + " " + s[11:len(s)-1], nil
}
