package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
		n, err := sink.Number(v)
		if err != nil {
			return nil, err
		}
		_, err = strconv.ParseInt(n, 10, 64)
		return n, err
	case sink.ClassUint64:
		n, err := sink.Number(v)
		if err != nil {
			return nil, err
		}
		_, err = strconv.ParseUint(n, 10, 64)
		return n, err
	case sink.ClassBit:
		n, err := sink.Number(v)
		if err != nil {
			return nil, err
		}
		u, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			return nil, err
		}
		if bits := t.Arg(0, 1); bits < 64 && u>>bits != 0 {
			return nil, fmt.Errorf("%d does not fit in BIT(%d)", u, bits)
		}
		return n, nil
	case sink.ClassFloat, sink.ClassDouble:
		n, err := sink.Number(v)
		if err != nil {
			return nil, err
		}
		size := 64
		if class == sink.ClassFloat {
			size = 32
		}
		// PostgreSQL reads the shortest text back to the same float, as Go does.
		_, err = strconv.ParseFloat(n, size)
		return n, err
	case sink.ClassDecimal:
		s, err := sink.String(v)
		if err != nil {
			return nil, err
		}
		return s, checkDecimal(s, t.Arg(0, 10), t.Arg(1, 0))
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
	timeText    = regexp.MustCompile(`^-?[0-9]{1,3}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$`)
	decimalText = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	dateText    = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})([ T].*)?$`)
)

// checkDecimal checks that s fits numeric(p,scale) without rounding.
func checkDecimal(s string, p, scale int) error {
	if !decimalText.MatchString(s) {
		return errors.New("want a decimal number")
	}
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	whole = strings.TrimLeft(whole, "0")
	frac = strings.TrimRight(frac, "0")
	if len(whole) > p-scale || len(frac) > scale {
		return fmt.Errorf("more digits than DECIMAL(%d,%d) holds", p, scale)
	}
	return nil
}

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
