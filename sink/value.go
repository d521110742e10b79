package sink

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Class is a family of column types whose values the events encode alike
// (docs/EVENTS.md, Values), which is what a target needs to know to hold
// them.
type Class int

const (
	ClassInt       Class = iota // every integer type but BIGINT UNSIGNED: a JSON number in int64
	ClassUint64                 // BIGINT UNSIGNED: a JSON number up to 2^64-1
	ClassDecimal                // DECIMAL, NUMERIC: a string of exact digits
	ClassFloat                  // FLOAT (float32)
	ClassDouble                 // DOUBLE
	ClassBit                    // BIT(n): a JSON number up to 2^n-1
	ClassYear                   // YEAR: a JSON number
	ClassDate                   // DATE: "2024-02-29", or a zero date
	ClassDatetime               // DATETIME(n): "2024-02-29 23:59:59.123"
	ClassTime                   // TIME(n): "-838:59:59.00"
	ClassTimestamp              // TIMESTAMP(n): "2038-01-19T03:14:07.999999Z", or a zero value without Z
	ClassText                   // CHAR, VARCHAR, TEXT types: a UTF-8 string
	ClassBinary                 // BINARY, VARBINARY, BLOB types: base64
	ClassEnum                   // ENUM: the label
	ClassSet                    // SET: an array of labels
	ClassJSON                   // JSON: the document
	ClassGeometry               // GEOMETRY types: base64 of SRID + WKB
	ClassUUID                   // UUID: RFC 4122 text
	ClassInet4                  // INET4: dotted quad
	ClassInet6                  // INET6: text
)

// ClassOf classifies a column. Targets call it for every value, so what it
// found for each type is kept.
func ClassOf(c Column) (Class, Type, error) {
	k := classKey{c.Type, c.Charset}
	if v, ok := classes.Load(k); ok {
		cc := v.(classified)
		return cc.class, cc.t, cc.err
	}
	class, t, err := classOf(c)
	classes.Store(k, classified{class, t, err})
	return class, t, err
}

type classKey struct{ typ, charset string }

type classified struct {
	class Class
	t     Type
	err   error
}

var classes sync.Map // classKey → classified

func classOf(c Column) (Class, Type, error) {
	t, err := ParseType(c.Type)
	if err != nil {
		return 0, t, err
	}
	switch t.Base {
	case "tinyint", "smallint", "mediumint", "int", "integer":
		return ClassInt, t, nil
	case "bigint":
		if t.Unsigned {
			return ClassUint64, t, nil
		}
		return ClassInt, t, nil
	case "decimal", "numeric", "dec", "fixed":
		return ClassDecimal, t, nil
	case "float":
		return ClassFloat, t, nil
	case "double", "real", "double precision":
		return ClassDouble, t, nil
	case "bit":
		return ClassBit, t, nil
	case "year":
		return ClassYear, t, nil
	case "date":
		return ClassDate, t, nil
	case "datetime":
		return ClassDatetime, t, nil
	case "time":
		return ClassTime, t, nil
	case "timestamp":
		return ClassTimestamp, t, nil
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		if c.Charset == "binary" {
			return ClassBinary, t, nil
		}
		return ClassText, t, nil
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return ClassBinary, t, nil
	case "enum":
		return ClassEnum, t, nil
	case "set":
		return ClassSet, t, nil
	case "json":
		return ClassJSON, t, nil
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection":
		return ClassGeometry, t, nil
	case "uuid":
		return ClassUUID, t, nil
	case "inet4":
		return ClassInet4, t, nil
	case "inet6":
		return ClassInet6, t, nil
	}
	return 0, t, fmt.Errorf("column type %q is not one tributary knows", c.Type)
}

// String reads a JSON string value.
func String(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("want a JSON string: %w", err)
	}
	return s, nil
}

// Bytes reads a base64 value (binary and geometry columns).
func Bytes(v json.RawMessage) ([]byte, error) {
	s, err := String(v)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

// Number returns a JSON number's text, checked to be one.
func Number(v json.RawMessage) (string, error) {
	s := string(bytes.TrimSpace(v))
	if s == "" || !json.Valid(v) || s[0] == '"' || s[0] == '{' || s[0] == '[' || s == "true" || s == "false" || s == "null" {
		return "", fmt.Errorf("want a JSON number, got %.40s", s)
	}
	return s, nil
}

// Int reads a value of an integer column of type t (ClassInt, ClassYear):
// a JSON number the type holds. A target whose column would hold more
// (or clamp it, as MySQL does outside strict mode) still gets only what
// the source column could have held.
func Int(t Type, v json.RawMessage) (int64, error) {
	n, err := Number(v)
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return 0, err
	}
	if t.Base == "year" {
		if i != 0 && (i < 1901 || i > 2155) {
			return 0, fmt.Errorf("%d is not a YEAR (0 or 1901 to 2155)", i)
		}
		return i, nil
	}
	var bits int
	switch t.Base {
	case "tinyint":
		bits = 8
	case "smallint":
		bits = 16
	case "mediumint":
		bits = 24
	case "int", "integer":
		bits = 32
	default:
		return i, nil // BIGINT: int64 is its range
	}
	lo, hi := -int64(1)<<(bits-1), int64(1)<<(bits-1)-1
	if t.Unsigned {
		lo, hi = 0, int64(1)<<bits-1
	}
	if i < lo || i > hi {
		return 0, fmt.Errorf("%d is out of the range of %s", i, t.name())
	}
	return i, nil
}

// Uint reads a value of a BIGINT UNSIGNED or BIT(n) column of type t
// (ClassUint64, ClassBit): a JSON number in 0 to 2^64-1, of at most n
// bits for BIT(n).
func Uint(t Type, v json.RawMessage) (uint64, error) {
	n, err := Number(v)
	if err != nil {
		return 0, err
	}
	u, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return 0, err
	}
	if bits := t.Arg(0, 1); t.Base == "bit" && bits < 64 && u>>bits != 0 {
		return 0, fmt.Errorf("%d does not fit in BIT(%d)", u, bits)
	}
	return u, nil
}

// Float reads a FLOAT (bits 32) or DOUBLE (bits 64) value: a JSON number
// within the type's range, as a float64 (for FLOAT, one a float32 holds).
func Float(v json.RawMessage, bits int) (float64, error) {
	n, err := Number(v)
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(n, bits)
}

// Decimal reads a value of a DECIMAL(p,s) column of type t: a string of
// exact digits, -?digits[.digits], with no more digits than p and s allow
// (a target never rounds it) and, for an UNSIGNED type, not below zero.
func Decimal(t Type, v json.RawMessage) (string, error) {
	s, err := String(v)
	if err != nil {
		return "", err
	}
	abs, negative := strings.CutPrefix(s, "-")
	whole, frac, dot := strings.Cut(abs, ".")
	if !digits(whole) || dot && !digits(frac) {
		return "", fmt.Errorf("%q is not a decimal number", s)
	}
	whole = strings.TrimLeft(whole, "0")
	frac = strings.TrimRight(frac, "0")
	p, scale := t.Arg(0, 10), t.Arg(1, 0)
	if len(whole) > p-scale || len(frac) > scale {
		return "", fmt.Errorf("%s has more digits than DECIMAL(%d,%d) holds", s, p, scale)
	}
	if negative && t.Unsigned && whole+frac != "" {
		return "", fmt.Errorf("%s is below zero, which an UNSIGNED DECIMAL does not hold", s)
	}
	return s, nil
}

// digits says whether s is one or more ASCII digits.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// name is the type as errors name it: "TINYINT UNSIGNED".
func (t Type) name() string {
	n := strings.ToUpper(t.Base)
	if t.Unsigned {
		n += " UNSIGNED"
	}
	return n
}

// Labels reads a SET value: its labels, in definition order.
func Labels(v json.RawMessage) ([]string, error) {
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("want an array of labels: %w", err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// JoinLabels writes a SET value as MySQL does: its labels joined by commas.
func JoinLabels(v json.RawMessage) (string, error) {
	l, err := Labels(v)
	return strings.Join(l, ","), err
}
