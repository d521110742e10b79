package sink

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// TableName names a source table.
type TableName struct {
	Database string `json:"database"`
	Table    string `json:"table"`
}

func (n TableName) String() string { return n.Database + "." + n.Table }

// ParseTableName reads "db.table".
func ParseTableName(s string) (TableName, error) {
	db, table, ok := strings.Cut(s, ".")
	if !ok || db == "" || table == "" || strings.Contains(table, ".") {
		return TableName{}, fmt.Errorf("table %q: want database.table (e.g. shop.orders)", s)
	}
	return TableName{db, table}, nil
}

// Column is a source column as the events describe it (docs/EVENTS.md, DDL
// events): Type is information_schema's COLUMN_TYPE, e.g. "decimal(7,3)
// unsigned", with MariaDB's JSON columns as "json".
type Column struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
	Charset  string `json:"charset,omitempty"`
}

// Table is the shape of one read-model table: the source table's columns,
// in source order, and the columns that identify a row (the events' key).
type Table struct {
	Name    TableName `json:"name"`
	Columns []Column  `json:"columns"`
	Charset string    `json:"charset,omitempty"`
	Key     []string  `json:"key"`
}

// Column returns the column named name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Row is one row image: column name to its value as the event holds it (the
// JSON encoding of docs/EVENTS.md, Values). SQL NULL is a nil value; a JSON
// column holding the JSON document null holds the text null.
type Row map[string]json.RawMessage

// Type is a column type read from its COLUMN_TYPE text.
type Type struct {
	// Base is the type's name in lower case: "int", "varchar", "decimal",
	// "enum", "json", "uuid"…
	Base string
	// Args are the numbers in parentheses: length, precision and scale,
	// fractional digits ("decimal(7,3)" has 7 and 3).
	Args []int
	// Labels are the members of an ENUM or SET, unquoted.
	Labels   []string
	Unsigned bool
}

// ParseType reads a COLUMN_TYPE text.
func ParseType(s string) (Type, error) {
	s = strings.TrimSpace(s)
	var t Type
	base, rest, paren := strings.Cut(s, "(")
	t.Base = strings.ToLower(strings.TrimSpace(base))
	if t.Base == "" {
		return t, fmt.Errorf("column type %q: no type name", s)
	}
	if paren {
		end := closingParen(rest)
		if end < 0 {
			return t, fmt.Errorf("column type %q: unbalanced parentheses", s)
		}
		inner := rest[:end]
		rest = rest[end+1:]
		if t.Base == "enum" || t.Base == "set" {
			labels, err := parseLabels(inner)
			if err != nil {
				return t, fmt.Errorf("column type %q: %w", s, err)
			}
			t.Labels = labels
		} else {
			for _, a := range strings.Split(inner, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(a))
				if err != nil {
					return t, fmt.Errorf("column type %q: %q is not a number", s, a)
				}
				t.Args = append(t.Args, n)
			}
		}
	} else {
		t.Base, rest, _ = strings.Cut(t.Base, " ")
		rest = " " + rest
	}
	for _, word := range strings.Fields(rest) {
		switch strings.ToLower(word) {
		case "unsigned":
			t.Unsigned = true
		case "signed", "zerofill":
		default:
			return t, fmt.Errorf("column type %q: unexpected %q", s, word)
		}
	}
	return t, nil
}

// Arg returns the i-th argument, or def if the type has none there.
func (t Type) Arg(i, def int) int {
	if i < len(t.Args) {
		return t.Args[i]
	}
	return def
}

// closingParen finds the parenthesis that closes an opened one, skipping
// quoted labels.
func closingParen(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			_, end := quoted(s, i)
			if end < 0 {
				return -1
			}
			i = end - 1
		case ')':
			return i
		}
	}
	return -1
}

// parseLabels reads 'a','b”c' as information_schema writes ENUM and SET
// members (a quote doubled inside a label).
func parseLabels(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		switch s[i] {
		case ',', ' ':
			i++
			continue
		case '\'':
		default:
			return nil, fmt.Errorf("label list %q: unexpected %q", s, s[i])
		}
		label, end := quoted(s, i)
		if end < 0 {
			return nil, fmt.Errorf("label list %q: unterminated label", s)
		}
		out = append(out, label)
		i = end
	}
	return out, nil
}
