package binlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/tributary-cdc/tributary"
)

// kind says how a column's decoded values are written as JSON.
type kind uint8

const (
	kindInt       kind = iota // exact JSON number
	kindDecimal               // string with the exact digits and scale
	kindFloat                 // shortest JSON number that round-trips
	kindTemporal              // DATE, DATETIME, TIME as MySQL writes them
	kindTimestamp             // TIMESTAMP, in UTC with a Z
	kindYear                  // JSON number
	kindText                  // UTF-8 string
	kindBinary                // base64 string
	kindEnum                  // label
	kindSet                   // array of labels
	kindBit                   // JSON number
	kindJSON                  // embedded JSON
	kindGeometry              // base64 of MySQL's internal WKB form
	kindUUID                  // MariaDB UUID: its RFC 4122 text
	kindInet4                 // MariaDB INET4: dotted quad
	kindInet6                 // MariaDB INET6: its text as MariaDB writes it
)

// charset of a text column, reduced to what the encoder needs to know.
type charset uint8

const (
	charsetUTF8   charset = iota // utf8mb4, utf8mb3, ascii: bytes already UTF-8
	charsetLatin1                // MySQL's latin1 is cp1252
	charsetBinary                // no charset: bytes, written as base64
)

type column struct {
	name    string
	quoted  []byte // `"name":`, ready to append
	kind    kind
	charset charset
	labels  []string // ENUM and SET labels, in definition order
	frac    int      // TIME(n): fractional digits go-mysql drops when they are zero
	// width is the byte length of a BINARY(n) column (and of the types
	// stored like one): the binlog drops trailing zero bytes, the value has
	// them.
	width int
}

// table is what the encoder needs of one table, derived from a TableMapEvent.
type table struct {
	schema, name string
	columns      []column
	key          []int // indexes of the key columns; empty if the table has none

	// version identifies the column list and types (docs/EVENTS.md,
	// schemaversion): 16 hex digits of a SHA-256 over them.
	version string

	// Precomputed parts of every event of this table.
	typePrefix    string // "<db>.<table>."
	subjectPrefix string // "<prefix>.<escaped db>.<escaped table>."

	// What it was derived from, to tell whether a new TableMapEvent of the
	// same table id still describes the same table.
	colTypes []byte
	colMeta  []uint16
	colNames [][]byte
}

// catalog knows what the binlog does not say: which collation ids belong to
// which charset, and which MariaDB columns are JSON, UUID, INET4 or INET6
// (kindJSON, kindUUID, kindInet4, kindInet6 by column name).
type catalog interface {
	charsetOf(collation uint64) (string, bool)
	specialColumns(schema, table string) (map[string]kind, error)
}

// errNoColumnNames means the binlog carries no column names for a table:
// binlog_row_metadata is not FULL.
var errNoColumnNames = fmt.Errorf("the binlog carries no column names (set binlog_row_metadata=FULL on the source)")

// newTable derives a table from its TableMapEvent. keys holds the
// configured key columns of tables, by "db.table".
func newTable(tm *replication.TableMapEvent, prefix string, cat catalog, keys map[string][]string) (*table, error) {
	t := &table{
		schema:   string(tm.Schema),
		name:     string(tm.Table),
		colTypes: bytes.Clone(tm.ColumnType),
		colMeta:  slices.Clone(tm.ColumnMeta),
	}
	names := tm.ColumnNameString()
	if len(names) != int(tm.ColumnCount) {
		return nil, fmt.Errorf("table %s.%s: %w", t.schema, t.name, errNoColumnNames)
	}
	for _, n := range tm.ColumnName {
		t.colNames = append(t.colNames, bytes.Clone(n))
	}
	collations := tm.CollationMap()
	enumLabels := tm.EnumStrValueMap()
	setLabels := tm.SetStrValueMap()
	labelCollations := tm.EnumSetCollationMap()
	var special map[string]kind
	specialKind := func(name string) (kind, bool, error) {
		if cat == nil {
			return 0, false, nil
		}
		if special == nil {
			var err error
			if special, err = cat.specialColumns(t.schema, t.name); err != nil {
				return 0, false, err
			}
			if special == nil {
				special = map[string]kind{}
			}
		}
		k, ok := special[name]
		return k, ok, nil
	}
	t.columns = make([]column, tm.ColumnCount)
	for i := range t.columns {
		c := &t.columns[i]
		c.name = names[i]
		c.quoted = append(appendString(nil, c.name), ':')
		switch {
		case tm.IsEnumColumn(i), tm.IsSetColumn(i):
			c.kind, c.labels = kindEnum, enumLabels[i]
			if tm.IsSetColumn(i) {
				c.kind, c.labels = kindSet, setLabels[i]
			}
			labels, err := labelsUTF8(cat, labelCollations, i, c.labels)
			if err != nil {
				return nil, fmt.Errorf("table %s.%s column %s: %w", t.schema, t.name, c.name, err)
			}
			c.labels = labels
			continue
		case tm.IsGeometryColumn(i):
			c.kind = kindGeometry
			continue
		}
		switch tm.ColumnType[i] {
		case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24,
			mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG:
			c.kind = kindInt
		case mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DECIMAL:
			c.kind = kindDecimal
		case mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
			c.kind = kindFloat
		case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME,
			mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIME:
			c.kind = kindTemporal
		case mysql.MYSQL_TYPE_TIME2:
			c.kind = kindTemporal
			c.frac = int(tm.ColumnMeta[i])
		case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
			c.kind = kindTimestamp
		case mysql.MYSQL_TYPE_YEAR:
			c.kind = kindYear
		case mysql.MYSQL_TYPE_BIT:
			c.kind = kindBit
		case mysql.MYSQL_TYPE_JSON:
			c.kind = kindJSON
		case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING,
			mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB,
			mysql.MYSQL_TYPE_LONG_BLOB:
			coll, ok := collations[i]
			if !ok {
				return nil, fmt.Errorf("table %s.%s column %s: the binlog carries no charset (set binlog_row_metadata=FULL on the source)", t.schema, t.name, c.name)
			}
			cs, err := charsetFor(cat, coll)
			if err != nil {
				return nil, fmt.Errorf("table %s.%s column %s: %w", t.schema, t.name, c.name, err)
			}
			c.charset = cs
			c.kind = kindText
			if cs == charsetBinary {
				c.kind = kindBinary
				if tm.ColumnType[i] == mysql.MYSQL_TYPE_STRING {
					c.width = stringWidth(tm.ColumnMeta[i])
					// MariaDB's UUID, INET4 and INET6 travel as BINARY(16),
					// BINARY(4) and BINARY(16): only the table definition
					// tells them apart.
					k, ok, err := specialKind(c.name)
					if err != nil {
						return nil, err
					}
					if ok && (k == kindUUID || k == kindInet6) && c.width == 16 || ok && k == kindInet4 && c.width == 4 {
						c.kind = k
					}
				}
				continue
			}
			// MariaDB's JSON is LONGTEXT with a json_valid CHECK: only the
			// table definition can tell it from text.
			if tm.ColumnType[i] == mysql.MYSQL_TYPE_BLOB {
				k, ok, err := specialKind(c.name)
				if err != nil {
					return nil, err
				}
				if ok && k == kindJSON {
					c.kind = kindJSON
				}
			}
		default:
			return nil, fmt.Errorf("table %s.%s column %s: binlog column type %d is not supported yet", t.schema, t.name, c.name, tm.ColumnType[i])
		}
	}
	if err := t.chooseKey(tm, keys); err != nil {
		return nil, err
	}
	t.version = schemaVersion(tm, t.columns)
	t.typePrefix = t.schema + "." + t.name + "."
	t.subjectPrefix = prefix + "." + tributary.EscapeToken(t.schema) + "." + tributary.EscapeToken(t.name) + "."
	return t, nil
}

// schemaVersion hashes what decides how a table's rows are written: each
// column's name, binlog type and metadata, signedness, collation, ENUM/SET
// labels and kind, in column order.
func schemaVersion(tm *replication.TableMapEvent, cols []column) string {
	unsigned := tm.UnsignedMap()
	collations := tm.CollationMap()
	labelCollations := tm.EnumSetCollationMap()
	h := sha256.New()
	for i := range cols {
		c := &cols[i]
		coll, ok := collations[i]
		if !ok {
			coll = labelCollations[i]
		}
		fmt.Fprintf(h, "%q %d %d %t %d %d %q\n", c.name, tm.ColumnType[i], tm.ColumnMeta[i], unsigned[i], coll, c.kind, c.labels)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// chooseKey picks the columns that identify a row (docs/EVENTS.md, Keys):
// the key configured for the table, else the primary key the binlog names.
// A table without a primary key has its first unique key whose columns are
// all NOT NULL named as primary key by the server itself (MySQL and MariaDB
// promote it), so that rule needs nothing here; else the table has no key.
func (t *table) chooseKey(tm *replication.TableMapEvent, keys map[string][]string) error {
	if names, ok := keys[t.schema+"."+t.name]; ok {
		for _, n := range names {
			i := slices.IndexFunc(t.columns, func(c column) bool { return c.name == n })
			if i < 0 {
				return fmt.Errorf("%w: table %s.%s has no column %s, which --keys names for its key (fix --keys, or the table)", ErrConfiguredKey, t.schema, t.name, n)
			}
			t.key = append(t.key, i)
		}
		return nil
	}
	for _, k := range tm.PrimaryKey {
		t.key = append(t.key, int(k))
	}
	return nil
}

// ErrConfiguredKey means a configured key names a column the table does not
// have.
var ErrConfiguredKey = errors.New("configured key does not match the table")

// labelsUTF8 gives ENUM or SET labels, which the binlog carries in the
// column's charset, in UTF-8.
func labelsUTF8(cat catalog, collations map[int]uint64, col int, labels []string) ([]string, error) {
	cs := charsetUTF8
	if coll, ok := collations[col]; ok {
		var err error
		if cs, err = charsetFor(cat, coll); err != nil {
			return nil, err
		}
	}
	out := make([]string, len(labels))
	for i, l := range labels {
		switch {
		case cs == charsetLatin1:
			out[i] = latin1ToUTF8(l)
		case utf8.ValidString(l):
			out[i] = l
		default:
			return nil, fmt.Errorf("label %d is not valid UTF-8", i+1)
		}
	}
	return out, nil
}

// stringWidth is the declared byte length of a MYSQL_TYPE_STRING column,
// from its table-map metadata (as go-mysql decodes it: real type in the
// high byte, with two bits of the length folded into it for lengths over
// 255).
func stringWidth(meta uint16) int {
	if meta < 256 {
		return int(meta)
	}
	b0, b1 := int(meta>>8), int(meta&0xFF)
	if b0&0x30 != 0x30 {
		return b1 | ((b0&0x30)^0x30)<<4
	}
	return b1
}

func charsetFor(cat catalog, collation uint64) (charset, error) {
	if collation == 63 {
		return charsetBinary, nil
	}
	name := ""
	if cat != nil {
		name, _ = cat.charsetOf(collation)
	}
	switch {
	case strings.HasPrefix(name, "utf8"), name == "ascii":
		return charsetUTF8, nil
	case name == "latin1":
		return charsetLatin1, nil
	case name == "binary":
		return charsetBinary, nil
	case name == "":
		return 0, fmt.Errorf("unknown collation id %d", collation)
	}
	return 0, fmt.Errorf("charset %s is not supported yet (convert the column to utf8mb4, or exclude the table)", name)
}

// sameAs reports whether tm still describes the table t was derived from.
func (t *table) sameAs(tm *replication.TableMapEvent) bool {
	if t.schema != string(tm.Schema) || t.name != string(tm.Table) ||
		!bytes.Equal(t.colTypes, tm.ColumnType) || !slices.Equal(t.colMeta, tm.ColumnMeta) || len(t.colNames) != len(tm.ColumnName) {
		return false
	}
	for i, n := range tm.ColumnName {
		if !bytes.Equal(t.colNames[i], n) {
			return false
		}
	}
	return true
}
