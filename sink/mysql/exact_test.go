package mysql_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-cdc/tributary/sink"
)

// every has a column of every type family, in several charsets.
const every = `CREATE TABLE every (
	id INT NOT NULL PRIMARY KEY,
	ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT UNSIGNED, i INT, bi BIGINT,
	biu BIGINT UNSIGNED, zf INT(6) UNSIGNED ZEROFILL, bo BOOLEAN,
	dm DECIMAL(65,30), du DECIMAL(7,3) UNSIGNED, f FLOAT, fmd FLOAT(7,3), d DOUBLE,
	b1 BIT(1), b7 BIT(7), b64 BIT(64),
	dt DATE, dtm DATETIME(6), dt0 DATETIME, tm TIME(6), tm0 TIME, ts TIMESTAMP(6) NULL, ts0 TIMESTAMP NULL, y YEAR,
	cu CHAR(10) CHARACTER SET utf8mb4, vu VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, tu TEXT CHARACTER SET utf8mb4,
	cl CHAR(10), vl VARCHAR(50), tl MEDIUMTEXT,
	v3 VARCHAR(20) CHARACTER SET utf8mb3, va VARCHAR(20) CHARACTER SET ascii,
	cb CHAR(4) CHARACTER SET binary, vb VARCHAR(10) CHARACTER SET binary, tb TEXT CHARACTER SET binary,
	bn BINARY(4), vbn VARBINARY(10), bl BLOB, lb LONGBLOB,
	e ENUM('a','b''c','x\\y','A',' sp') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, el ENUM('é','e') CHARACTER SET latin1,
	s SET('p','q','r','P') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	j JSON, g GEOMETRY, p POINT, ls LINESTRING,
	u UUID, i4 INET4, i6 INET6
) DEFAULT CHARSET latin1`

// everyRows are awkward values: minimums, maximums, zero dates, a day 31
// of February, negative TIME under a second, 4-byte UTF-8, cp1252 bytes,
// binary values ending in zero bytes, the JSON document null, an ENUM's
// invalid-value marker, and NULL everywhere.
var everyRows = []string{
	`(1, -128, 0, -32768, 0, -2147483648, -9223372036854775808,
	0, 0, 0,
	'-99999999999999999999999999999999999.999999999999999999999999999999', 0, -3.40282e38, -9999.999, -1.7976931348623157e308,
	0, 0, 0,
	'0000-00-00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '-838:59:59.000000', '-838:59:59', '0000-00-00 00:00:00', 0, 0,
	'', '', '',
	'', '', '',
	'', '',
	'', '', '',
	'', '', '', '',
	'a', 'e', '',
	'null', ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-1.5 2.25)', 4326), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'),
	'00000000-0000-0000-0000-000000000000', '0.0.0.0', '::')`,
	`(2, 127, 255, 32767, 16777215, 2147483647, 9223372036854775807,
	18446744073709551615, 999999, 1,
	'99999999999999999999999999999999999.999999999999999999999999999999', 9999.999, 3.40282e38, 9999.999, 1.7976931348623157e308,
	1, b'1111111', b'1111111111111111111111111111111111111111111111111111111111111111',
	'9999-12-31', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '838:59:59.000000', '838:59:59', '2038-01-19 08:44:07.999999', '2038-01-19 08:44:07', 2155,
	'😀 café', '😀 ''"\\ \t\n', REPEAT('𝄞', 2000),
	_latin1 X'80818D8F909DFF', _latin1 X'A4C3E9', _latin1 X'2020',
	'€ utf8mb3', '~ascii ',
	X'00010000', X'FF00', X'00',
	X'01', X'0000', X'000102FF', REPEAT(X'00FF', 40000),
	'x\\y', 'é', 'p,r,P',
	'{"k":[1,"x",null],"u":"😀","n":1.50,"e":1e400}', ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,2 1,2 2,1 1))', 4326), ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('LINESTRING(1 1, 2 2)', 3857),
	'ffffffff-ffff-ffff-ffff-ffffffffffff', '255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')`,
	`(3, -1, 1, -1, 1, -1, -1,
	9223372036854775808, 5, 1,
	'-0.000000000000000000000000000001', 0.001, 1.4e-45, 0.001, 5e-324,
	1, 64, 9223372036854775808,
	'2024-02-31', '2024-00-10 01:02:03.000001', '2024-02-29 23:59:59', '-00:00:00.500000', '-00:00:01', '1970-01-01 05:30:01.000001', '2024-03-31 07:30:00', 1901,
	'a  ', 'A ', 'tab\there',
	'é', 'Š ', '',
	'ü', 'x',
	X'41', X'00', X'0A00',
	X'00000000', X'00000000', X'', X'',
	'A', 'e', '',
	'"str"', ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))'), ST_GeomFromText('POINT(0.1 0.2)'), ST_GeomFromText('LINESTRING(0 0, 0 0)'),
	'01890a5d-ac96-774b-bcce-b302099a8057', '192.168.1.10', '::ffff:192.0.2.1')`,
	`(4, 0.0, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL,
	'0.000000000000000000000000000000', NULL, 0.1, NULL, 0.1,
	NULL, NULL, NULL,
	'2024-02-29', NULL, NULL, '00:00:00.000001', NULL, '2024-10-27 06:30:00.5', NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL, NULL,
	NULL, NULL, NULL,
	'[]', NULL, NULL, NULL,
	NULL, NULL, '2001:db8::1:0:0:1')`,
	`(5, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL, NULL,
	NULL, NULL, NULL,
	NULL, NULL, NULL, NULL,
	NULL, NULL, '::192.0.2.1')`,
}

// TestExact: a read model written through the target from the events'
// values equals the source table value for value, in the source's own
// column types.
func TestExact(t *testing.T) {
	ctx := context.Background()
	srcDSN := newDatabase(t)
	src := reader(t, srcDSN)
	conn, err := src.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"SET time_zone = '+05:30', sql_mode = 'ALLOW_INVALID_DATES', NAMES utf8mb4",
		every,
		"INSERT INTO every VALUES " + strings.Join(everyRows, ", "),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("source: %v\n%s", err, q)
		}
	}
	var level, message string
	var code int
	if err := conn.QueryRowContext(ctx, "SHOW WARNINGS").Scan(&level, &code, &message); err != sql.ErrNoRows {
		t.Fatalf("the source rows are not as written: %s %d %s (%v)", level, code, message, err)
	}
	// ENUM's invalid-value marker, which only a warning writes.
	if _, err := conn.ExecContext(ctx, "UPDATE every SET e = '', el = IF(id = 1, '', el) WHERE id IN (1, 3)"); err != nil {
		t.Fatal(err)
	}

	tb := sourceTable(t, src, "every")
	rows := encodeRows(t, src, tb)
	dstDSN := newDatabase(t)
	tg := open(t, dstDSN, "exact")
	tx := begin(t, tg)
	if err := tx.CreateTable(ctx, tb); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if err := tx.Upsert(ctx, tb, rows); err != nil {
		t.Fatalf("Insert: %v", err)
	}
	if err := tx.Commit(ctx, sink.Checkpoint{Seq: 1, Tables: []sink.Table{tb}}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	dst := reader(t, dstDSN)

	// The same column types, nullability and charsets.
	const def = "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, IFNULL(CHARACTER_SET_NAME, '') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'every' ORDER BY ORDINAL_POSITION"
	if diff := cmp.Diff(queryStrings(t, src, def), queryStrings(t, dst, def)); diff != "" {
		t.Errorf("read model's columns differ from the source's (-source +read model):\n%s", diff)
	}
	// The same values: each column as the server returns it (through the
	// binary protocol, so that FLOAT and DOUBLE come as their bits), and
	// its bytes.
	var cols []string
	for _, c := range tb.Columns {
		cols = append(cols, "`"+c.Name+"`", "HEX(`"+c.Name+"`)")
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM every WHERE id > ? ORDER BY id"
	want, got := queryStrings(t, src, q, 0), queryStrings(t, dst, q, 0) // an argument: the binary protocol
	if len(want) != len(everyRows) {
		t.Fatalf("source holds %d rows, want %d", len(want), len(everyRows))
	}
	if len(got) != len(want) {
		t.Fatalf("read model holds %d rows, source %d", len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("row %d %s: read model %q, source %q", i+1, cols[j], got[i][j], want[i][j])
			}
		}
	}
}

// sourceTable reads a table's definition as the events give it
// (docs/EVENTS.md, DDL events).
func sourceTable(t *testing.T, db *sql.DB, table string) sink.Table {
	t.Helper()
	tb := sink.Table{Name: sink.TableName{Database: "src", Table: table}}
	for _, r := range queryStrings(t, db, `SELECT c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, IFNULL(c.CHARACTER_SET_NAME, ''),
			EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA
				AND k.TABLE_NAME = c.TABLE_NAME AND k.CHECK_CLAUSE = CONCAT('json_valid(', CHAR(96), c.COLUMN_NAME, CHAR(96), ')'))
		FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME = ? ORDER BY c.ORDINAL_POSITION`, table) {
		c := sink.Column{Name: r[0], Type: r[1], Nullable: r[2] == "YES", Charset: r[3]}
		if r[4] == "1" && c.Type == "longtext" {
			c.Type = "json"
		}
		tb.Columns = append(tb.Columns, c)
	}
	for _, r := range queryStrings(t, db, `SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
		AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, table) {
		tb.Key = append(tb.Key, r[0])
	}
	tb.Charset = queryStrings(t, db, `SELECT l.CHARACTER_SET_NAME FROM information_schema.TABLES t JOIN information_schema.COLLATIONS l
		ON l.COLLATION_NAME = t.TABLE_COLLATION WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = ?`, table)[0][0]
	return tb
}

// encodeRows reads a table's rows as the events encode them
// (docs/EVENTS.md, Values): a small encoder of the test's own, from what
// the server returns for each column.
func encodeRows(t *testing.T, db *sql.DB, tb sink.Table) []sink.Row {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET time_zone = '+00:00', NAMES utf8mb4"); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	classes := make([]sink.Class, len(tb.Columns))
	for i, c := range tb.Columns {
		class, _, err := sink.ClassOf(c)
		if err != nil {
			t.Fatal(err)
		}
		classes[i] = class
		q := "`" + c.Name + "`"
		switch class {
		case sink.ClassFloat, sink.ClassDouble:
			exprs = append(exprs, q) // through the binary protocol: the float's own bits
		case sink.ClassBit:
			exprs = append(exprs, q+"+0")
		case sink.ClassBinary, sink.ClassGeometry:
			exprs = append(exprs, "HEX("+q+")")
		case sink.ClassText, sink.ClassJSON:
			exprs = append(exprs, "CONVERT("+q+" USING utf8mb4)")
		default:
			exprs = append(exprs, "CAST("+q+" AS CHAR)")
		}
	}
	rows, err := conn.QueryContext(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM `"+tb.Name.Table+"` WHERE 1 = ? ORDER BY 1", 1)
	if err != nil {
		t.Fatalf("read source rows: %v", err)
	}
	var out []sink.Row
	for _, vals := range scanRows(t, rows) {
		row := sink.Row{}
		for i, c := range tb.Columns {
			if vals[i] == nil {
				row[c.Name] = nil
				continue
			}
			v, err := encode(classes[i], vals[i])
			if err != nil {
				t.Fatalf("encode %s %v: %v", c.Name, vals[i], err)
			}
			row[c.Name] = v
		}
		out = append(out, row)
	}
	return out
}

func encode(class sink.Class, v any) (json.RawMessage, error) {
	text := func() string {
		if b, ok := v.([]byte); ok {
			return string(b)
		}
		return fmt.Sprint(v)
	}
	switch class {
	case sink.ClassInt, sink.ClassYear:
		n, err := strconv.ParseInt(text(), 10, 64) // ZEROFILL's text has leading zeros
		return json.RawMessage(strconv.FormatInt(n, 10)), err
	case sink.ClassUint64, sink.ClassBit:
		n, err := strconv.ParseUint(text(), 10, 64)
		return json.RawMessage(strconv.FormatUint(n, 10)), err
	case sink.ClassFloat:
		f, ok := v.(float32)
		if !ok {
			return nil, fmt.Errorf("FLOAT came as %T", v)
		}
		return json.RawMessage(strconv.FormatFloat(float64(f), 'g', -1, 32)), nil
	case sink.ClassDouble:
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("DOUBLE came as %T", v)
		}
		return json.RawMessage(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case sink.ClassTimestamp:
		s := text()
		if !strings.HasPrefix(s, "0000-00-00") {
			s = strings.Replace(s, " ", "T", 1) + "Z"
		}
		return json.Marshal(s)
	case sink.ClassBinary, sink.ClassGeometry:
		b, err := hex.DecodeString(text())
		if err != nil {
			return nil, err
		}
		return json.Marshal(base64.StdEncoding.EncodeToString(b))
	case sink.ClassSet:
		labels := []string{}
		if s := text(); s != "" {
			labels = strings.Split(s, ",")
		}
		return json.Marshal(labels)
	case sink.ClassJSON:
		return json.RawMessage(text()), nil // embedded as it is; the document null is the text null
	}
	return json.Marshal(text()) // DECIMAL, DATE, DATETIME, TIME, text, ENUM, UUID, INET
}
