package kv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tributary-cdc/tributary/sink"
)

// HeaderJSONNull is set on a row's entry when JSON columns of it hold the
// JSON document null rather than SQL NULL (both read null in the value):
// the columns' names, as a JSON array. A reader that needs the difference
// reads the entry's message (a direct get) rather than through the KV API,
// which drops headers.
const HeaderJSONNull = "Tributary-JSON-Null"

// column is a column with its class.
type column struct {
	sink.Column
	class sink.Class
	typ   sink.Type
}

// columnOf classifies a column (sink.ClassOf keeps what it found for each
// type).
func columnOf(col sink.Column) (column, error) {
	class, typ, err := sink.ClassOf(col)
	if err != nil {
		return column{}, fmt.Errorf("column %s: %w", col.Name, err)
	}
	return column{Column: col, class: class, typ: typ}, nil
}

// layout is what writing a table's rows takes, worked out once per call
// rather than once per row: each column's class, its name as a JSON object
// member, and the key columns.
type layout struct {
	t      *sink.Table
	prefix string // TablePrefix(t.Name.Table)
	cols   []column
	names  [][]byte // `"name":`
	key    []column // in key order
}

// layoutOf checks that the read model can hold a table: column types it
// knows, and key columns among its columns. A table with no key can be
// created, as in the SQL targets (the Runner stops at its first row), but
// holds no row.
func layoutOf(t *sink.Table) (*layout, error) {
	l := &layout{t: t, prefix: TablePrefix(t.Name.Table), cols: make([]column, len(t.Columns)), names: make([][]byte, len(t.Columns))}
	for i, col := range t.Columns {
		cc, err := columnOf(col)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
		name, _ := json.Marshal(col.Name)
		l.cols[i], l.names[i] = cc, append(name, ':')
	}
	for _, k := range t.Key {
		i := slices.IndexFunc(t.Columns, func(c sink.Column) bool { return c.Name == k })
		if i < 0 {
			return nil, fmt.Errorf("table %s has no key column %s", t.Name, k)
		}
		l.key = append(l.key, l.cols[i])
	}
	return l, nil
}

// encode writes row as a JSON object of the table's columns, in order,
// each value as the events hold it (a column the row lacks is null), under
// the row's key.
func (l *layout) encode(row sink.Row) (write, error) {
	var b bytes.Buffer
	var nulls []string
	b.WriteByte('{')
	for i, col := range l.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(l.names[i])
		v := row[col.Name]
		switch {
		case v == nil:
			b.WriteString("null")
		case isNull(v):
			// A JSON column's document null; any other column's null is
			// SQL NULL.
			if col.class == sink.ClassJSON {
				nulls = append(nulls, col.Name)
			}
			b.WriteString("null")
		default:
			if err := check(col, v); err != nil {
				return write{}, valueError(l.t, col, v, err)
			}
			if err := json.Compact(&b, v); err != nil {
				return write{}, valueError(l.t, col, v, err)
			}
		}
	}
	b.WriteByte('}')
	key, err := l.keyOf(row)
	if err != nil {
		return write{}, err
	}
	w := write{key: key, value: b.Bytes()}
	if len(nulls) > 0 {
		h, _ := json.Marshal(nulls)
		w.jsonNull = string(h)
	}
	return w, nil
}

// keyOf returns the key of the row whose key columns image holds.
func (l *layout) keyOf(image sink.Row) (string, error) {
	if len(l.key) == 0 {
		return "", fmt.Errorf("table %s has no key, and a KV read model keys each row by it: %w", l.t.Name, sink.ErrValue)
	}
	values := make([]string, len(l.key))
	for i, c := range l.key {
		v, ok := image[c.Name]
		if !ok {
			return "", fmt.Errorf("table %s: the key image has no column %s", l.t.Name, c.Name)
		}
		var err error
		if values[i], err = keyText(c, v); err != nil {
			return "", valueError(l.t, c, v, err)
		}
	}
	key := Key(l.t.Name.Table, values...)
	if len(key) > maxKeyLen {
		return "", fmt.Errorf("table %s: key %.60s… is %d bytes escaped, over the %d a KV key can be here: %w", l.t.Name, key, len(key), maxKeyLen, sink.ErrValue)
	}
	return key, nil
}

func valueError(t *sink.Table, c column, v json.RawMessage, err error) error {
	return fmt.Errorf("table %s column %s (%s) value %.80s: %w: %w", t.Name, c.Name, c.Type, v, sink.ErrValue, err)
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// keyText is a key column's value as its key token holds it: a string's
// text, a number as written, any other value as its compact JSON.
func keyText(c column, v json.RawMessage) (string, error) {
	if v == nil || isNull(v) {
		return "", fmt.Errorf("key column holds NULL: a KV read model keys each row by its key values")
	}
	if err := check(c, v); err != nil {
		return "", err
	}
	switch {
	case stringClass(c.class):
		return sink.String(v)
	case numberClass(c.class):
		return sink.Number(v)
	}
	var b bytes.Buffer
	err := json.Compact(&b, v)
	return b.String(), err
}

func numberClass(c sink.Class) bool {
	switch c {
	case sink.ClassInt, sink.ClassUint64, sink.ClassFloat, sink.ClassDouble, sink.ClassBit, sink.ClassYear:
		return true
	}
	return false
}

func stringClass(c sink.Class) bool {
	return !numberClass(c) && c != sink.ClassSet && c != sink.ClassJSON
}

// check says whether v is a value of c's type as the events write it
// (docs/EVENTS.md, Values), within the type's range as the SQL targets
// require it; v is not null.
func check(c column, v json.RawMessage) error {
	var err error
	switch c.class {
	case sink.ClassInt, sink.ClassYear:
		_, err = sink.Int(c.typ, v)
	case sink.ClassUint64, sink.ClassBit:
		_, err = sink.Uint(c.typ, v)
	case sink.ClassFloat:
		_, err = sink.Float(v, 32)
	case sink.ClassDouble:
		_, err = sink.Float(v, 64)
	case sink.ClassDecimal:
		_, err = sink.Decimal(c.typ, v)
	case sink.ClassBinary, sink.ClassGeometry:
		_, err = sink.Bytes(v)
	case sink.ClassSet:
		_, err = sink.Labels(v)
	case sink.ClassJSON:
		if !json.Valid(v) {
			err = fmt.Errorf("not a JSON document")
		}
	default:
		_, err = sink.String(v)
	}
	return err
}

// decimalText says whether s is -?digits[.digits].
func decimalText(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	return digits(whole) && (!dot || digits(frac))
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// decode reads a stored row back: SQL NULL as nil, a JSON column's
// document null (named in jsonNull, the HeaderJSONNull value) as null.
func decode(value []byte, jsonNull string) (sink.Row, error) {
	var row sink.Row
	if err := json.Unmarshal(value, &row); err != nil {
		return nil, fmt.Errorf("stored row: %w", err)
	}
	for k, v := range row {
		if isNull(v) {
			row[k] = nil
		}
	}
	if jsonNull != "" {
		var names []string
		if err := json.Unmarshal([]byte(jsonNull), &names); err != nil {
			return nil, fmt.Errorf("stored row: header %s: %w", HeaderJSONNull, err)
		}
		for _, n := range names {
			row[n] = json.RawMessage("null")
		}
	}
	return row, nil
}

// reshaper turns rows of one table shape into rows of another
// (AlterTable, RenameTable), the columns matched once.
type reshaper struct {
	from, to *layout
	// src has, for each column of to, the index of its column in from; -1
	// for a column added.
	src []int
}

// reshaperOf matches the columns of two shapes: renamed maps new column
// names to old, a column of to found in neither is added (NULL), a column
// of from in neither is dropped.
func reshaperOf(from, to *sink.Table, renamed map[string]string) (*reshaper, error) {
	fl, err := layoutOf(from)
	if err != nil {
		return nil, err
	}
	tl, err := layoutOf(to)
	if err != nil {
		return nil, err
	}
	r := &reshaper{from: fl, to: tl, src: make([]int, len(to.Columns))}
	for i, tc := range to.Columns {
		old := tc.Name
		if o, ok := renamed[tc.Name]; ok {
			old = o
		}
		r.src[i] = slices.IndexFunc(from.Columns, func(c sink.Column) bool { return c.Name == old })
	}
	return r, nil
}

// reshape returns a stored row of from as a row of to, a value whose
// column changed type converted.
func (r *reshaper) reshape(row sink.Row) (write, error) {
	out := make(sink.Row, len(r.to.cols))
	for i, tc := range r.to.cols {
		if r.src[i] < 0 {
			out[tc.Name] = nil
			continue
		}
		fc := r.from.cols[r.src[i]]
		v, err := convert(fc, tc, row[fc.Name])
		if err != nil {
			return write{}, valueError(r.to.t, tc, row[fc.Name], err)
		}
		out[tc.Name] = v
	}
	return r.to.encode(out)
}

// convert turns a stored value of column fc into one of column tc, as
// the events would write it after the type change, where the two differ
// only in form: a number and its text (INT to VARCHAR and back), a decimal
// rescaled (INT or DECIMAL to DECIMAL(p,s), rounding half away from zero
// as MySQL does), text and its bytes (VARCHAR to VARBINARY and back), text
// and the JSON document it holds (back as compact JSON, not MySQL's spaced
// rendering), a SET and its labels joined by commas. Other values are kept as they are if
// they are values of the new type; one that is not cannot be held, and
// stops the sink.
func convert(fc, tc column, v json.RawMessage) (json.RawMessage, error) {
	if v == nil || fc.Type == tc.Type && fc.Charset == tc.Charset {
		return v, nil
	}
	binary := func(c sink.Class) bool { return c == sink.ClassBinary || c == sink.ClassGeometry }
	switch {
	case tc.class == sink.ClassDecimal:
		text := string(v)
		if s, err := sink.String(v); err == nil {
			text = s
		}
		if !decimalText(text) {
			return nil, fmt.Errorf("%.40s is not a decimal number", text)
		}
		v, _ = json.Marshal(rescale(text, tc.typ.Arg(1, 0)))
	case numberClass(tc.class) && fc.class == sink.ClassDecimal || numberClass(tc.class) && fc.class == sink.ClassText:
		if s, err := sink.String(v); err == nil {
			v = json.RawMessage(s)
		}
	case binary(tc.class) && !binary(fc.class) && stringClass(fc.class):
		s, err := sink.String(v)
		if err != nil {
			return nil, err
		}
		v, _ = json.Marshal(base64.StdEncoding.EncodeToString([]byte(s)))
	case !binary(tc.class) && stringClass(tc.class) && binary(fc.class):
		b, err := sink.Bytes(v)
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("its bytes are not UTF-8 text")
		}
		v, _ = json.Marshal(string(b))
	case stringClass(tc.class) && numberClass(fc.class):
		v, _ = json.Marshal(string(v))
	case tc.class == sink.ClassJSON && fc.class == sink.ClassText:
		s, err := sink.String(v)
		if err != nil {
			return nil, err
		}
		if !json.Valid([]byte(s)) {
			return nil, fmt.Errorf("%.40q is not a JSON document", s)
		}
		v = json.RawMessage(s)
	case stringClass(tc.class) && fc.class == sink.ClassJSON:
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return nil, err
		}
		v, _ = json.Marshal(b.String())
	case stringClass(tc.class) && fc.class == sink.ClassSet:
		s, err := sink.JoinLabels(v)
		if err != nil {
			return nil, err
		}
		v, _ = json.Marshal(s)
	}
	if err := check(tc, v); err != nil {
		return nil, fmt.Errorf("no value of %s holds it: %w", tc.Type, err)
	}
	return v, nil
}

// rescale writes a decimal text with scale digits after the point.
func rescale(s string, scale int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) <= scale {
		frac += strings.Repeat("0", scale-len(frac))
	} else {
		up := frac[scale] >= '5'
		frac = frac[:scale]
		if up {
			d := []byte(whole + frac)
			i := len(d) - 1
			for ; i >= 0 && d[i] == '9'; i-- {
				d[i] = '0'
			}
			if i < 0 {
				d = append([]byte{'1'}, d...)
			} else {
				d[i]++
			}
			whole, frac = string(d[:len(d)-scale]), string(d[len(d)-scale:])
		}
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	out := whole
	if scale > 0 {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}
