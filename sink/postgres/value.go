package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-cdc/tributary/sink"
)

// Value returns what PostgreSQL reads the value from: the text of its input
// form for most types (sent untyped, it takes the column's type), []byte for
// bytea, []string for text[]. It checks what PostgreSQL would round or
// refuse, so that such a value is a sink.ErrValue naming it.
func (Dialect) Value(c sink.Column, v json.RawMessage) (any, error) {
	class, t, err := sink.ClassOf(c)
	if err != nil {
		return nil, err
	}
	switch class {
	case sink.ClassInt, sink.ClassYear:
		i, err := sink.Int(t, v)
		if err != nil {
			return nil, err
		}
		return strconv.FormatInt(i, 10), nil
	case sink.ClassUint64, sink.ClassBit:
		u, err := sink.Uint(t, v)
		if err != nil {
			return nil, err
		}
		return strconv.FormatUint(u, 10), nil
	case sink.ClassFloat, sink.ClassDouble:
		n, err := sink.Number(v)
		if err != nil {
			return nil, err
		}
		bits := 64
		if class == sink.ClassFloat {
			bits = 32
		}
		// The event's text, in the type's range: PostgreSQL reads the
		// shortest text back to the same float, as Go does.
		if _, err := strconv.ParseFloat(n, bits); err != nil {
			return nil, err
		}
		return n, nil
	case sink.ClassDecimal:
		return sink.Decimal(t, v)
	case sink.ClassDate, sink.ClassDatetime, sink.ClassTimestamp:
		s, err := sink.String(v)
		if err != nil {
			return nil, err
		}
		return temporal(s)
	case sink.ClassTime:
		s, err := sink.String(v)
		if err != nil {
			return nil, err
		}
		if !timeText.MatchString(s) {
			return nil, errors.New("want a MySQL TIME ([-]hhh:mm:ss[.ffffff])")
		}
		return s, nil
	case sink.ClassText, sink.ClassEnum:
		s, err := sink.String(v)
		if err != nil {
			return nil, err
		}
		if strings.ContainsRune(s, 0) {
			return nil, errNUL
		}
		return s, nil
	case sink.ClassBinary, sink.ClassGeometry:
		return sink.Bytes(v)
	case sink.ClassSet:
		labels, err := sink.Labels(v)
		if err != nil {
			return nil, err
		}
		for _, l := range labels {
			if strings.ContainsRune(l, 0) {
				return nil, errNUL
			}
		}
		return labels, nil
	case sink.ClassJSON:
		if err := checkJSON(v); err != nil {
			return nil, err
		}
		return string(v), nil
	}
	return sink.String(v) // UUID, INET4, INET6: their text is PostgreSQL's input form
}

var errNUL = errors.New("PostgreSQL text cannot hold the NUL character (U+0000)")

var (
	timeText = regexp.MustCompile(`^-?[0-9]{1,3}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$`)
	dateText = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})([ T].*)?$`)
)

// temporal is a DATE, DATETIME or TIMESTAMP value in PostgreSQL's input
// form: the zero value as -infinity, the year 0000 as 1 BC, anything else
// as the events write it.
func temporal(s string) (string, error) {
	m := dateText.FindStringSubmatch(s)
	if m == nil {
		return "", errors.New("want a date starting YYYY-MM-DD")
	}
	if strings.Trim(s, "0-: .") == "" {
		return "-infinity", nil
	}
	year, _ := strconv.Atoi(m[1])
	month, _ := strconv.Atoi(m[2])
	day, _ := strconv.Atoi(m[3])
	if month == 0 || day == 0 {
		return "", errors.New("a date with a zero month or day has no PostgreSQL form")
	}
	if month > 12 || day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return "", errors.New("a day past the end of its month has no PostgreSQL form")
	}
	if year == 0 {
		return "0001" + s[4:] + " BC", nil
	}
	return s, nil
}

// checkJSON checks that a document is one jsonb holds: valid, and no string
// (key or value) holding U+0000.
func checkJSON(doc json.RawMessage) error {
	if !json.Valid(doc) {
		return errors.New("want a JSON document")
	}
	// A string can only hold U+0000 escaped, as \u0000.
	if !bytes.Contains(doc, []byte(`\u0000`)) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if s, ok := tok.(string); ok && strings.ContainsRune(s, 0) {
			return errors.New("jsonb cannot hold the character U+0000")
		}
	}
}
