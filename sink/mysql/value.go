package mysql

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/sink"
)

// Value converts a value as the events hold it (docs/EVENTS.md, Values) to
// what the server reads into the source's own type: the same value, never
// one the column would round or truncate. sql_mode does not reject what a
// column cannot hold, so what the server would change silently is checked
// here.
func (Dialect) Value(c sink.Column, v json.RawMessage) (any, error) {
	class, _, err := sink.ClassOf(c)
	if err != nil {
		return nil, err
	}
	switch class {
	case sink.ClassInt, sink.ClassYear:
		n, err := sink.Number(v)
		if err != nil {
			return nil, err
		}
		return strconv.ParseInt(n, 10, 64)
	case sink.ClassUint64, sink.ClassBit:
		// A number, not text: text into a BIT column is its bytes.
		n, err := sink.Number(v)
		if err != nil {
			return nil, err
		}
		return strconv.ParseUint(n, 10, 64)
	case sink.ClassDecimal:
		s, err := sink.String(v)
		if err != nil {
			return nil, err
		}
		if !decimal.MatchString(s) {
			return nil, fmt.Errorf("%q is not a decimal number", s)
		}
		return s, nil
	case sink.ClassFloat:
		// Read as float32, the column's own type: its float64 is exact, and
		// the server stores it back without rounding twice.
		n, err := sink.Number(v)
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(n, 32)
		return float64(float32(f)), err
	case sink.ClassDouble:
		n, err := sink.Number(v)
		if err != nil {
			return nil, err
		}
		return strconv.ParseFloat(n, 64)
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
		if s != "" && !slices.Contains(labels(c.Type), s) {
			return nil, fmt.Errorf("%q is not a member of the ENUM", s)
		}
		return s, nil
	case sink.ClassSet:
		set, err := sink.Labels(v)
		if err != nil {
			return nil, err
		}
		members := labels(c.Type)
		for _, l := range set {
			if !slices.Contains(members, l) {
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

var decimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

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

// labels are the members of an ENUM or SET type as COLUMN_TYPE writes
// them, in their own case (sink.ParseType's are in lower case, and a
// binary collation tells 'a' from 'A'): quoted, a quote doubled or
// escaped, a backslash escaped.
func labels(typ string) []string {
	open := strings.IndexByte(typ, '(')
	if open < 0 {
		return nil
	}
	var out []string
	var b strings.Builder
	quoted := false
	for i := open + 1; i < len(typ); i++ {
		switch ch := typ[i]; {
		case !quoted && ch == '\'':
			quoted = true
			b.Reset()
		case !quoted && ch == ')':
			return out
		case !quoted:
		case ch == '\'' && i+1 < len(typ) && typ[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case ch == '\'':
			quoted = false
			out = append(out, b.String())
		case ch == '\\' && i+1 < len(typ):
			i++
			b.WriteByte(typ[i])
		default:
			b.WriteByte(ch)
		}
	}
	return out
}
