package integration

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/nats-io/nats.go/jetstream"
)

// How the value the database returns for a column is turned into the value
// the event must hold (docs/EVENTS.md, Values).
type expect int

const (
	asNumber     expect = iota // CAST(c AS CHAR): the JSON number's exact text
	asString                   // CAST(c AS CHAR): a JSON string
	asText                     // HEX(CONVERT(c USING utf8mb4)): a JSON string of those bytes
	asBase64                   // HEX(c): base64 of those bytes
	asTimestamp                // CAST(c AS CHAR) in UTC: RFC 3339 with a Z (zero stays as is)
	asSet                      // HEX(CONVERT(c USING utf8mb4)): an array of the labels
	asJSON                     // HEX(CONVERT(c USING utf8mb4)): the same JSON document
	asFloat                    // the database compares c with CAST(event value AS FLOAT)
	asDouble                   // the database compares c with CAST(event value AS DOUBLE)
	asBitNumber                // CAST(c AS UNSIGNED): the JSON number's exact text
	asYearNumber               // CAST(c AS UNSIGNED)
)

func (e expect) selectExpr(col string) string {
	c := "`" + col + "`"
	switch e {
	case asText, asSet, asJSON:
		return "HEX(CONVERT(" + c + " USING utf8mb4))"
	case asBase64:
		return "HEX(" + c + ")"
	case asBitNumber, asYearNumber:
		return "CAST(" + c + " AS UNSIGNED)"
	}
	return "CAST(" + c + " AS CHAR)"
}

type typedColumn struct {
	name, def string
	expect    expect
	values    []string // SQL literals, one per row after the all-NULL row
}

type typeTable struct {
	name    string
	columns []typedColumn
	extra   string // more of the CREATE TABLE body
	zone    string // the session time zone the rows are written in (default +05:30)
}

// typeMatrix is every column type MariaDB 10.11 has, each with its minimum,
// maximum and awkward values; row 1 of every table is all NULL.
var typeMatrix = []typeTable{
	{name: "ints", columns: []typedColumn{
		{"ti", "TINYINT", asNumber, []string{"-128", "127", "0", "-1"}},
		{"tiu", "TINYINT UNSIGNED", asNumber, []string{"0", "255", "1", "128"}},
		{"si", "SMALLINT", asNumber, []string{"-32768", "32767", "0", "-1"}},
		{"siu", "SMALLINT UNSIGNED", asNumber, []string{"0", "65535", "1", "32768"}},
		{"mi", "MEDIUMINT", asNumber, []string{"-8388608", "8388607", "0", "-1"}},
		{"miu", "MEDIUMINT UNSIGNED", asNumber, []string{"0", "16777215", "1", "8388608"}},
		{"i", "INT", asNumber, []string{"-2147483648", "2147483647", "0", "-1"}},
		{"iu", "INT UNSIGNED", asNumber, []string{"0", "4294967295", "1", "2147483648"}},
		{"bi", "BIGINT", asNumber, []string{"-9223372036854775808", "9223372036854775807", "0", "-1"}},
		{"biu", "BIGINT UNSIGNED", asNumber, []string{"0", "18446744073709551615", "1", "9223372036854775808"}},
		{"bo", "BOOLEAN", asNumber, []string{"FALSE", "TRUE", "-128", "127"}},
	}},
	{name: "decimals", columns: []typedColumn{
		{"d65", "DECIMAL(65,30)", asString, []string{
			"-99999999999999999999999999999999999.999999999999999999999999999999",
			"99999999999999999999999999999999999.999999999999999999999999999999",
			"0", "0.000000000000000000000000000001"}},
		{"d10", "DECIMAL(10,2)", asString, []string{"-99999999.99", "99999999.99", "0.00", "1.10"}},
		{"du", "DECIMAL(5,0) UNSIGNED", asString, []string{"0", "99999", "1", "10"}},
		{"n", "NUMERIC(20,10)", asString, []string{"-9999999999.9999999999", "9999999999.9999999999", "-0.0000000001", "100"}},
		{"d1", "DECIMAL(1,1)", asString, []string{"-0.9", "0.9", "0", "-0.1"}},
	}},
	{name: "floats", columns: []typedColumn{
		{"f", "FLOAT", asFloat, []string{"-3.40282e38", "3.40282e38", "0", "1.1"}},
		{"fs", "FLOAT", asFloat, []string{"1.17549e-38", "-1.17549e-38", "1e-45", "123456.7"}},
		{"d", "DOUBLE", asDouble, []string{"-1.7976931348623157e308", "1.7976931348623157e308", "0", "0.1"}},
		{"ds", "DOUBLE", asDouble, []string{"2.2250738585072014e-308", "4.9e-324", "-5e-324", "0.30000000000000004"}},
	}},
	{name: "bits", columns: []typedColumn{
		{"b1", "BIT(1)", asBitNumber, []string{"b'0'", "b'1'", "b'1'", "b'0'"}},
		{"b8", "BIT(8)", asBitNumber, []string{"0", "255", "1", "128"}},
		{"b17", "BIT(17)", asBitNumber, []string{"0", "131071", "65536", "1"}},
		{"b63", "BIT(63)", asBitNumber, []string{"0", "9223372036854775807", "1", "4611686018427387904"}},
		{"b64", "BIT(64)", asBitNumber, []string{"0", "18446744073709551615", "1", "9223372036854775808"}},
	}},
	{name: "temporal", columns: []typedColumn{
		{"dt", "DATE", asString, []string{"'1000-01-01'", "'9999-12-31'", "'0000-00-00'", "'2024-00-15'"}},
		{"dtm", "DATETIME", asString, []string{"'1000-01-01 00:00:00'", "'9999-12-31 23:59:59'", "'0000-00-00 00:00:00'", "'2024-02-29 12:00:00'"}},
		{"dtm3", "DATETIME(3)", asString, []string{"'1000-01-01 00:00:00.000'", "'9999-12-31 23:59:59.999'", "'0000-00-00 00:00:00.000'", "'2024-02-29 12:00:00.5'"}},
		{"dtm6", "DATETIME(6)", asString, []string{"'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'2024-02-00 00:00:00.000001'", "'2024-02-29 12:00:00.000010'"}},
		// Written in the session's zone (+05:30); the events are in UTC.
		{"ts", "TIMESTAMP NULL", asTimestamp, []string{"'1970-01-01 05:30:01'", "'2038-01-19 08:44:07'", "'0000-00-00 00:00:00'", "'2024-03-31 02:30:00'"}},
		{"ts6", "TIMESTAMP(6) NULL", asTimestamp, []string{"'1970-01-01 05:30:01.000000'", "'2038-01-19 08:44:07.999999'", "'2024-10-27 03:00:00.000001'", "'2000-01-01 05:30:00.5'"}},
		{"tm", "TIME", asString, []string{"'-838:59:59'", "'838:59:59'", "'00:00:00'", "'-00:00:01'"}},
		{"tm2", "TIME(2)", asString, []string{"'-838:59:59.99'", "'838:59:59.99'", "'-00:00:00.5'", "'100:00:00.01'"}},
		{"tm6", "TIME(6)", asString, []string{"'-838:59:59.999999'", "'838:59:59.999999'", "'-01:02:03.000004'", "'24:00:00'"}},
		{"yr", "YEAR", asYearNumber, []string{"1901", "2155", "0000", "2000"}},
	}},
	// Around the 2024 DST changes of a server session in Europe/Berlin: the
	// last second before the spring gap, the first after it, a time in
	// the gap, and both readings of the autumn hour that happens twice.
	{name: "dst", zone: "Europe/Berlin", columns: []typedColumn{
		{"ts", "TIMESTAMP NULL", asTimestamp, []string{"'2024-03-31 01:59:59'", "'2024-03-31 03:00:00'", "'2024-03-31 02:30:00'", "'2024-10-27 02:30:00'"}},
		{"ts6", "TIMESTAMP(6) NULL", asTimestamp, []string{"'2024-10-27 01:59:59.999999'", "'2024-10-27 03:00:00.000001'", "FROM_UNIXTIME(1729989000.5)", "FROM_UNIXTIME(1729992600.25)"}},
		{"dtm", "DATETIME(6)", asString, []string{"'2024-03-31 02:30:00'", "'2024-10-27 02:30:00.5'", "NOW(6) - INTERVAL 0 SECOND", "'2024-03-31 01:59:59.999999'"}},
	}},
	// Every fractional precision not in the tables above.
	{name: "fractions", columns: []typedColumn{
		{"dtm1", "DATETIME(1)", asString, []string{"'1000-01-01 00:00:00.0'", "'9999-12-31 23:59:59.9'", "'2024-02-29 12:00:00.05'", "'0000-00-00 00:00:00'"}},
		{"dtm2", "DATETIME(2)", asString, []string{"'1000-01-01 00:00:00.00'", "'9999-12-31 23:59:59.99'", "'2024-02-29 12:00:00.1'", "'2024-02-29 12:00:00.009'"}},
		{"dtm4", "DATETIME(4)", asString, []string{"'1000-01-01 00:00:00.0000'", "'9999-12-31 23:59:59.9999'", "'2024-02-29 12:00:00.0001'", "'2024-02-29 12:00:00.12345'"}},
		{"dtm5", "DATETIME(5)", asString, []string{"'1000-01-01 00:00:00.00000'", "'9999-12-31 23:59:59.99999'", "'2024-02-29 12:00:00.00001'", "'2024-02-29 12:00:00.5'"}},
		{"ts1", "TIMESTAMP(1) NULL", asTimestamp, []string{"'1970-01-01 05:30:01.0'", "'2038-01-19 08:44:07.9'", "'2024-02-29 12:00:00.05'", "'0000-00-00 00:00:00'"}},
		{"ts2", "TIMESTAMP(2) NULL", asTimestamp, []string{"'1970-01-01 05:30:01.00'", "'2038-01-19 08:44:07.99'", "'2024-02-29 12:00:00.1'", "'2000-01-01 00:00:00.01'"}},
		{"ts3", "TIMESTAMP(3) NULL", asTimestamp, []string{"'1970-01-01 05:30:01.000'", "'2038-01-19 08:44:07.999'", "'2024-02-29 12:00:00.001'", "'2000-01-01 00:00:00.5'"}},
		{"ts4", "TIMESTAMP(4) NULL", asTimestamp, []string{"'1970-01-01 05:30:01.0000'", "'2038-01-19 08:44:07.9999'", "'2024-02-29 12:00:00.0001'", "'2000-01-01 00:00:00.25'"}},
		{"ts5", "TIMESTAMP(5) NULL", asTimestamp, []string{"'1970-01-01 05:30:01.00000'", "'2038-01-19 08:44:07.99999'", "'2024-02-29 12:00:00.00001'", "'2000-01-01 00:00:00.125'"}},
		{"tm1", "TIME(1)", asString, []string{"'-838:59:59.9'", "'838:59:59.9'", "'-00:00:00.1'", "'00:00:00'"}},
		{"tm3", "TIME(3)", asString, []string{"'-838:59:59.999'", "'838:59:59.999'", "'-00:00:00.001'", "'25:00:00.5'"}},
		{"tm4", "TIME(4)", asString, []string{"'-838:59:59.9999'", "'838:59:59.9999'", "'-00:00:00.0001'", "'12:34:56.7'"}},
		{"tm5", "TIME(5)", asString, []string{"'-838:59:59.99999'", "'838:59:59.99999'", "'-00:00:00.00001'", "'-12:00:00'"}},
	}},
	{name: "texts", columns: []typedColumn{
		{"c", "CHAR(10) CHARACTER SET utf8mb4", asText, []string{"''", "'😀😀😀😀😀😀😀😀😀😀'", "'a  '", "' lead'"}},
		{"vc", "VARCHAR(100) CHARACTER SET utf8mb4", asText, []string{"''", "REPEAT('𝄞', 100)", "'trail  '", `'q"uote\\back\ttab\nnl\rcr'`}},
		{"vcb", "VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", asText, []string{"''", "'ÄÖÜ äöü ß'", "CHAR(0, 1, 31, 127 USING utf8mb4)", "'*>.'"}},
		{"u3", "VARCHAR(20) CHARACTER SET utf8mb3", asText, []string{"''", "'ｱｲｳ€'", "'é'", "'\\0'"}},
		{"asc", "VARCHAR(20) CHARACTER SET ascii", asText, []string{"''", "'~}|{'", "' '", "'A'"}},
		{"l1", "VARCHAR(20) CHARACTER SET latin1", asText, []string{"''", "X'80818D8F909D9EFF'", "'café'", "X'A0A4B5'"}},
		{"l1c", "CHAR(5) CHARACTER SET latin1", asText, []string{"''", "X'E9E9E9E9E9'", "'x'", "'ab c'"}},
		{"tt", "TINYTEXT", asText, []string{"''", "REPEAT('x', 255)", "'😀'", "'a\\nb'"}},
		{"tx", "TEXT", asText, []string{"''", "REPEAT('é', 32767)", "'t'", "'  '"}},
		{"mt", "MEDIUMTEXT", asText, []string{"''", "REPEAT('abcdefgh', 20000)", "'m'", "'😀'"}},
		{"lt", "LONGTEXT", asText, []string{"''", "REPEAT('0123456789', 10000)", "'l'", "'€'"}},
		{"l1t", "TEXT CHARACTER SET latin1", asText, []string{"''", "X'80FF'", "'Ç'", "'x'"}},
	}},
	{name: "binaries", columns: []typedColumn{
		{"bn", "BINARY(4)", asBase64, []string{"X''", "X'FFFFFFFF'", "X'01000000'", "X'00'"}},
		{"bn1", "BINARY(1)", asBase64, []string{"X'00'", "X'FF'", "X'20'", "X''"}},
		{"vb", "VARBINARY(10)", asBase64, []string{"X''", "X'FFFFFFFFFFFFFFFFFFFF'", "X'0100'", "X'00'"}},
		{"tb", "TINYBLOB", asBase64, []string{"X''", "REPEAT(X'FF', 255)", "X'00'", "X'2000'"}},
		{"bl", "BLOB", asBase64, []string{"X''", "REPEAT(X'00FF', 32767)", "X'01'", "X'0000'"}},
		{"mb", "MEDIUMBLOB", asBase64, []string{"X''", "REPEAT(X'DEADBEEF', 30000)", "X'02'", "X'20'"}},
		{"lb", "LONGBLOB", asBase64, []string{"X''", "REPEAT(X'C0FFEE', 40000)", "X'03'", "X'00'"}},
	}},
	{name: "enums", columns: []typedColumn{
		{"en", "ENUM('a','b','c d','😀','')", asText, []string{"'a'", "'😀'", "'c d'", "''"}},
		{"enl", "ENUM('é','x') CHARACTER SET latin1", asText, []string{"'é'", "'x'", "'é'", "'x'"}},
		{"st", "SET('x','y','z')", asSet, []string{"''", "'x,y,z'", "'z'", "'x,z'"}},
		{"st64", "SET('a1','a2','a3','a4','a5','a6','a7','a8','a9','a10','a11','a12','a13','a14','a15','a16','a17','a18','a19','a20','a21','a22','a23','a24','a25','a26','a27','a28','a29','a30','a31','a32','a33','a34','a35','a36','a37','a38','a39','a40','a41','a42','a43','a44','a45','a46','a47','a48','a49','a50','a51','a52','a53','a54','a55','a56','a57','a58','a59','a60','a61','a62','a63','a64')", asSet, []string{"''", "'a1,a64'", "'a63'", "'a2,a33'"}},
	}},
	{name: "documents", columns: []typedColumn{
		{"js", "JSON", asJSON, []string{"'{}'", "'[]'", "'null'", `'{"a":{"b":[1,2.50,{"c":"😀\\u00e9"}],"t":true,"f":false}}'`}},
		{"js2", "JSON", asJSON, []string{"'\"str\"'", "'-1.5e-7'", "'18446744073709551615'", "CONCAT('[', REPEAT('{\"k\":\"v\"},', 20000), '0]')"}},
	}},
	{name: "spatial", columns: []typedColumn{
		{"g", "GEOMETRY", asBase64, []string{"ST_GeomFromText('POINT(1 2)')", "ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))')", "ST_GeomFromText('POINT(-0.5 1e300)', 4326)", "ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)))')"}},
		{"pt", "POINT", asBase64, []string{"POINT(0, 0)", "POINT(-180, 90)", "POINT(1.5, -2.25)", "ST_GeomFromText('POINT(3 4)', 3857)"}},
		{"ls", "LINESTRING", asBase64, []string{"ST_GeomFromText('LINESTRING(0 0,1 1)')", "ST_GeomFromText('LINESTRING(0 0,1 1,2 0)')", "ST_GeomFromText('LINESTRING(-1 -1,1 1)')", "ST_GeomFromText('LINESTRING(5 5,6 6)')"}},
		{"pg", "POLYGON", asBase64, []string{"ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))')", "ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 0),(1 1,2 1,2 2,1 1))')", "ST_GeomFromText('POLYGON((0 0,2 0,2 2,0 0))')", "ST_GeomFromText('POLYGON((0 0,3 0,3 3,0 0))')"}},
	}},
	{name: "special", columns: []typedColumn{
		{"uu", "UUID", asString, []string{"'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'6ccd780c-baba-1026-9564-5b8c656024db'", "'01890a5d-ac96-774b-bcce-b302099a8057'"}},
		{"uu4", "UUID", asString, []string{"'123e4567-e89b-42d3-a456-426655440000'", "'00000000-0000-1000-8000-000000000000'", "'00000000-0000-6000-8000-000000000001'", "'ffffffff-ffff-5fff-bfff-ffffffffffff'"}},
		{"ip4", "INET4", asString, []string{"'0.0.0.0'", "'255.255.255.255'", "'192.168.1.10'", "'10.0.0.1'"}},
		{"ip6", "INET6", asString, []string{"'::'", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'", "'::ffff:192.0.2.1'", "'2001:db8::ff00:42:8329'"}},
		{"ip6b", "INET6", asString, []string{"'::1'", "'::192.0.2.1'", "'2001:db8:0:0:1:0:0:1'", "'fe80::1:0:0:0'"}},
	}},
	{name: "derived", columns: []typedColumn{
		{"a", "INT", asNumber, []string{"-1", "2147483646", "0", "7"}},
		{"hidden", "INT INVISIBLE", asNumber, []string{"1", "2", "3", "4"}},
	}, extra: ", gv BIGINT AS (a * 2) VIRTUAL, gs VARCHAR(20) AS (CONCAT('v', a)) STORED"},
}

// TestTypeMatrix writes every type's edge values with SQL and checks that
// each value in the events is the value the database returns for the same
// row, in the encoding docs/EVENTS.md gives: after the insert, as both
// images of an update that moves the row, and before the delete.
func TestTypeMatrix(t *testing.T) { runTypeMatrix(t) }

// TestTypeMatrixCompressedBinlog: the same with MariaDB's binlog
// compression on, so that rows arrive in compressed rows events (MariaDB
// leaves some of them uncompressed: both kinds are decoded).
func TestTypeMatrixCompressedBinlog(t *testing.T) {
	db := runTypeMatrix(t, "--log-bin-compress=ON", "--log-bin-compress-min-len=10")
	conn := db.root()
	r, err := conn.Execute("SHOW BINLOG EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	// Rows events only: compressed CREATE TABLE statements
	// (Query_compressed) would not show that rows were.
	compressed, plain := 0, 0
	for i := range r.RowNumber() {
		typ, _ := r.GetString(i, 2)
		switch {
		case strings.HasSuffix(typ, "_rows_compressed_v1"):
			compressed++
		case strings.HasSuffix(typ, "_rows_v1"):
			plain++
		}
	}
	if compressed == 0 {
		t.Fatalf("the binlog holds no compressed rows events (and %d uncompressed): the test did not test compression", plain)
	}
	t.Logf("%d compressed rows events, %d left uncompressed by MariaDB", compressed, plain)
}

// startTypeMatrixDB starts a MariaDB for the type matrix (server zone
// +03:00, packets up to 64M, then serverArgs) with the time zone tables
// loaded: the dst table writes in Europe/Berlin, a named zone with DST, and
// the sandbox has no time zone tables until they are loaded.
func startTypeMatrixDB(t *testing.T, serverArgs ...string) *mariaDB {
	t.Helper()
	db := startMariaDB(t, append([]string{"--default-time-zone=+03:00", "--max-allowed-packet=64M"}, serverArgs...)...)
	const zoneFile = "/usr/share/zoneinfo/Europe/Berlin"
	tz, err := exec.Command("mariadb-tzinfo-to-sql", zoneFile, "Europe/Berlin").Output()
	if err != nil {
		t.Fatalf("mariadb-tzinfo-to-sql %s (the tzdata and mariadb-client packages provide them): %v", zoneFile, err)
	}
	db.sqlScript("USE mysql;\n" + string(tz))
	return db
}

// createTypeTables returns the CREATE TABLE statement of each table of the
// matrix m (typeMatrix or a variant of it), in database types.
func createTypeTables(m []typeTable) []string {
	var stmts []string
	for _, tb := range m {
		var cols []string
		for _, c := range tb.columns {
			cols = append(cols, "`"+c.name+"` "+c.def)
		}
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE types.%s (id INT PRIMARY KEY, %s%s)", tb.name, strings.Join(cols, ", "), tb.extra))
	}
	return stmts
}

// writeTypeRows writes the rows of the matrix m (typeMatrix or a variant of
// it) and returns how many: in each
// table, row 1 all NULL, then one row per edge value. Zero dates and
// out-of-range values are written as the server's permissive mode (an
// empty sql_mode) stores them; the session writes in the table's zone,
// +05:30 unless it names one.
func writeTypeRows(t *testing.T, conn *client.Conn, m []typeTable) int {
	t.Helper()
	if _, err := conn.Execute("SET SESSION sql_mode = ''"); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, tb := range m {
		zone := tb.zone
		if zone == "" {
			zone = "+05:30"
		}
		var names []string
		for _, c := range tb.columns {
			names = append(names, "`"+c.name+"`")
		}
		stmts := []string{"SET SESSION time_zone = '" + zone + "'", fmt.Sprintf("INSERT INTO types.%s (id) VALUES (1)", tb.name)}
		for r := range tb.columns[0].values {
			var vals []string
			for _, c := range tb.columns {
				vals = append(vals, c.values[r])
			}
			stmts = append(stmts, fmt.Sprintf("INSERT INTO types.%s (id, %s) VALUES (%d, %s)", tb.name, strings.Join(names, ", "), r+2, strings.Join(vals, ", ")))
		}
		for _, q := range stmts {
			if _, err := conn.Execute(q); err != nil {
				t.Fatalf("%.300s: %v", q, err)
			}
		}
		rows += len(tb.columns[0].values) + 1
	}
	return rows
}

// runTypeMatrix is TestTypeMatrix on a server started with extra options.
func runTypeMatrix(t *testing.T, serverArgs ...string) *mariaDB {
	db := startTypeMatrixDB(t, serverArgs...)
	ns := startNATS(t)
	db.exec(append([]string{"CREATE DATABASE types"}, createTypeTables(typeMatrix)...)...)

	p := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "types", "--server-id", "4343", "--include", "types.*")
	p.waitStreaming()

	conn := db.root()
	rows := writeTypeRows(t, conn, typeMatrix)
	changes := 3 * rows // insert, update, delete
	nc := ns.connect()
	waitForEvents(t, p, nc, "TRIBUTARY_TYPES", rows)

	// The inserts, value by value against the database (rows still there).
	want := snapshotTypes(t, db)
	inserted := map[string]map[int]map[string]string{} // the checked event text of every value
	insertedNulls := map[string]map[int][]string{}     // and its jsonnull list
	checked := 0
	for _, e := range decodeEvents(t, tailAll(t, ns.url(), "TRIBUTARY_TYPES")) {
		table, id, row := imageOf(t, e, e.Data.After)
		if e.Data.Op != "c" {
			t.Fatalf("%s: op %s, want c", e.Type, e.Data.Op)
		}
		if got, order := jsonKeys(t, e.Data.After), want[table].order; !slices.Equal(got, order) {
			t.Errorf("%s row %d: columns %v, want %v (every column, in table order)", e.Type, id, got, order)
		}
		if inserted[table] == nil {
			inserted[table] = map[int]map[string]string{}
		}
		inserted[table][id] = map[string]string{}
		if insertedNulls[table] == nil {
			insertedNulls[table] = map[int][]string{}
		}
		insertedNulls[table][id] = e.Data.JSONNull["after"]
		for name, ev := range row {
			inserted[table][id][name] = string(ev)
			if name == "id" {
				continue
			}
			if msg := want[table].check(t, conn, table, id, name, ev, slices.Contains(e.Data.JSONNull["after"], name)); msg != "" {
				t.Errorf("%s row %d column %s: %s", e.Type, id, name, msg)
			}
			checked++
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Both images of an update that moves every row, and the image of its
	// delete, hold the same values, decoded from the before-image path too.
	for _, tb := range typeMatrix {
		for _, q := range []string{"UPDATE types.%s SET id = id + 1000", "DELETE FROM types.%s"} {
			if _, err := conn.Execute(fmt.Sprintf(q, tb.name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitForEvents(t, p, nc, "TRIBUTARY_TYPES", changes)
	if code := p.stop(); code != 0 {
		t.Fatalf("start exited %d after SIGTERM, want 0\n%s", code, p.stderr)
	}
	evs := decodeEvents(t, tailAll(t, ns.url(), "TRIBUTARY_TYPES"))
	if len(evs) != changes {
		t.Fatalf("%d events, want %d", len(evs), changes)
	}
	for _, e := range evs[rows:] {
		images := map[string][]json.RawMessage{"u": {e.Data.Before, e.Data.After}, "d": {e.Data.Before}}[e.Data.Op]
		if images == nil {
			t.Fatalf("%s: op %s, want u or d", e.Type, e.Data.Op)
		}
		for i, img := range images {
			table, id, row := imageOf(t, e, img)
			if got, order := jsonKeys(t, img), want[table].order; !slices.Equal(got, order) {
				t.Errorf("%s (%s) row %d: columns %v, want %v (every column, in table order)", e.Type, e.Data.Op, id, got, order)
			}
			side := []string{"before", "after"}[i]
			if e.Data.Op == "d" {
				side = "before"
			}
			if got, first := e.Data.JSONNull[side], insertedNulls[table][id]; !slices.Equal(got, first) {
				t.Errorf("%s (%s) row %d: jsonnull %s %v, the insert had %v", e.Type, e.Data.Op, id, side, got, first)
			}
			for name, ev := range row {
				if name == "id" {
					continue
				}
				if first := inserted[table][id][name]; string(ev) != first {
					t.Errorf("%s (%s) row %d column %s: got %.200s, the insert had %.200s", e.Type, e.Data.Op, id, name, ev, first)
				}
				checked++
			}
		}
	}
	cols := 0
	for _, tb := range typeMatrix {
		cols += len(tb.columns)
	}
	t.Logf("%d tables, %d typed columns, %d rows, %d events, %d values compared", len(typeMatrix), cols, rows, len(evs), checked)
	return db
}

// imageOf decodes a row image of a types.* event: its table, its row id
// (before the update added 1000) and its values.
func imageOf(t *testing.T, e event, img json.RawMessage) (string, int, map[string]json.RawMessage) {
	t.Helper()
	var row map[string]json.RawMessage
	if err := json.Unmarshal(img, &row); err != nil {
		t.Fatalf("%s: image %.200s: %v", e.Type, img, err)
	}
	var id int
	if err := json.Unmarshal(row["id"], &id); err != nil {
		t.Fatalf("%s: id %s: %v", e.Type, row["id"], err)
	}
	return strings.Split(e.Type, ".")[1], id % 1000, row
}

// dbTable is the database's own reading of a table: per row id and column,
// the text the column's expectation is computed from (nil for NULL).
type dbTable struct {
	rows   map[int]map[string]*string
	expect map[string]expect
	order  []string // column names in table order
}

// snapshotTypes reads every row back, per table and id, with the
// expressions that keep every bit of the value.
func snapshotTypes(t *testing.T, db *mariaDB) map[string]*dbTable {
	conn := db.root()
	if _, err := conn.Execute("SET SESSION time_zone = '+00:00'"); err != nil {
		t.Fatal(err)
	}
	out := map[string]*dbTable{}
	for _, tb := range typeMatrix {
		kinds := map[string]expect{"gv": asNumber, "gs": asText}
		for _, c := range tb.columns {
			kinds[c.name] = c.expect
		}
		r, err := conn.Execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'types' AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", tb.name)
		if err != nil {
			t.Fatal(err)
		}
		var order, exprs []string
		for i := range r.RowNumber() {
			name, _ := r.GetString(i, 0)
			order = append(order, name)
			if name != "id" {
				exprs = append(exprs, kinds[name].selectExpr(name)+" AS `"+name+"`")
			}
		}
		dt := &dbTable{rows: map[int]map[string]*string{}, expect: kinds, order: order}
		for _, row := range rowsAsStrings(t, conn, fmt.Sprintf("SELECT id, %s FROM types.%s", strings.Join(exprs, ", "), tb.name)) {
			id, _ := strconv.Atoi(*row["id"])
			dt.rows[id] = row
		}
		out[tb.name] = dt
	}
	return out
}

// check compares one event value with the database's; it returns what is
// wrong, or "".
// jsonNull says the event names col as holding the JSON literal null.
func (r *dbTable) check(t *testing.T, conn *client.Conn, table string, id int, col string, ev json.RawMessage, jsonNull bool) string {
	t.Helper()
	db, ok := r.rows[id][col]
	if !ok {
		return fmt.Sprintf("the event has a column the table does not: %s", ev)
	}
	if db == nil {
		if string(ev) != "null" || jsonNull {
			return fmt.Sprintf("got %s (listed in jsonnull: %v), want null not listed in jsonnull", ev, jsonNull)
		}
		return ""
	}
	if r.expect[col] == asJSON && compact(t, []byte(hexText(t, *db))) == "null" {
		if string(ev) != "null" || !jsonNull {
			return fmt.Sprintf("got %s (listed in jsonnull: %v), want null listed in jsonnull", ev, jsonNull)
		}
		return ""
	}
	if jsonNull {
		return fmt.Sprintf("got %s listed in jsonnull, the database holds %q", ev, *db)
	}
	if string(ev) == "null" {
		return fmt.Sprintf("got null, the database holds %q", *db)
	}
	fromHex := func() string { return hexText(t, *db) }
	var evString string
	stringValue := func() bool { return json.Unmarshal(ev, &evString) == nil }
	switch e := r.expect[col]; e {
	case asNumber, asBitNumber, asYearNumber:
		if string(ev) != *db {
			return fmt.Sprintf("got %s, want the number %s", ev, *db)
		}
	case asString:
		if !stringValue() || evString != *db {
			return fmt.Sprintf("got %s, want the string %q", ev, *db)
		}
	case asText:
		if want := fromHex(); !stringValue() || evString != want {
			return fmt.Sprintf("got %s, want the string %q", ev, want)
		}
	case asBase64:
		if want := base64.StdEncoding.EncodeToString([]byte(fromHex())); !stringValue() || evString != want {
			return fmt.Sprintf("got %s, want base64 %q (hex %s)", ev, want, *db)
		}
	case asTimestamp:
		want := *db
		if !strings.HasPrefix(want, "0000") {
			want = want[:10] + "T" + want[11:] + "Z"
		}
		if !stringValue() || evString != want {
			return fmt.Sprintf("got %s, want %q", ev, want)
		}
	case asSet:
		want := []string{}
		if s := fromHex(); s != "" {
			want = strings.Split(s, ",")
		}
		var got []string
		if err := json.Unmarshal(ev, &got); err != nil || !slices.Equal(got, want) {
			return fmt.Sprintf("got %s, want the labels %q", ev, want)
		}
	case asJSON:
		if got, want := compact(t, ev), compact(t, []byte(fromHex())); got != want {
			return fmt.Sprintf("got %.200s, want %.200s", got, want)
		}
	case asFloat, asDouble:
		if _, err := strconv.ParseFloat(string(ev), 64); err != nil {
			return fmt.Sprintf("got %s, want a JSON number", ev)
		}
		typ := map[expect]string{asFloat: "FLOAT", asDouble: "DOUBLE"}[e]
		q := fmt.Sprintf("SELECT `%s` = CAST('%s' AS %s) FROM types.%s WHERE id = %d", col, ev, typ, table, id)
		res := rowsAsStrings(t, conn, q)
		if len(res) != 1 {
			t.Fatalf("%s: %d rows", q, len(res))
		}
		for _, v := range res[0] {
			if v == nil || *v != "1" {
				return fmt.Sprintf("got %s, which the database does not read back as its value %s", ev, *db)
			}
		}
	default:
		t.Fatalf("column %s: no expectation", col)
	}
	return ""
}

func hexText(t *testing.T, h string) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatalf("HEX() gave %q: %v", h, err)
	}
	return string(b)
}

// jsonKeys lists an object's keys in document order.
func jsonKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(raw)))
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestLargeValues: a row whose event would be larger than the NATS
// server's max_payload (1 MB here) is stored with its large values in the
// stream's object store, named in data.external, and each object holds the
// value's exact JSON text; the images of an update are moved out each.
func TestLargeValues(t *testing.T) {
	db := startMariaDB(t, "--max-allowed-packet=64M")
	ns := startNATS(t)
	db.exec("CREATE DATABASE big", "CREATE TABLE big.files (id INT PRIMARY KEY, name VARCHAR(20), body LONGBLOB, doc LONGTEXT)")
	p := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "big", "--server-id", "4444")
	p.waitStreaming()
	db.exec(
		"INSERT INTO big.files VALUES (1, 'small', X'00', 'd')",
		"INSERT INTO big.files VALUES (2, 'blob', REPEAT(X'00FF7F', 500000), 'd')",
		"UPDATE big.files SET name = 'both', doc = REPEAT('é', 600000) WHERE id = 2")
	nc := ns.connect()
	waitForEvents(t, p, nc, "TRIBUTARY_BIG", 3)
	if code := p.stop(); code != 0 {
		t.Fatalf("start exited %d after SIGTERM, want 0\n%s", code, p.stderr)
	}

	type ref struct {
		Bucket, Name, Digest string
		Size                 int
	}
	type largeEvent struct {
		ID   string `json:"id"`
		Data struct {
			Before, After map[string]json.RawMessage
			External      map[string]map[string]ref
		} `json:"data"`
	}
	var evs []largeEvent
	for _, l := range tailAll(t, ns.url(), "TRIBUTARY_BIG") {
		var e largeEvent
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	if evs[0].Data.External != nil {
		t.Errorf("a small event has data.external %v", evs[0].Data.External)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	store, err := js.ObjectStore(context.Background(), "TRIBUTARY_BIG_VALUES")
	if err != nil {
		t.Fatalf("the large values' object store: %v", err)
	}
	// What the database holds, as the event would have written it inline.
	blob := strings.Repeat("\x00\xff\x7f", 500000)
	wantInline := map[string]string{
		"body": `"` + base64.StdEncoding.EncodeToString([]byte(blob)) + `"`,
		"doc":  `"` + strings.Repeat("é", 600000) + `"`,
	}
	check := func(i int, image, col string, img map[string]json.RawMessage) {
		t.Helper()
		r, ok := evs[i].Data.External[image][col]
		if !ok {
			t.Fatalf("event %d: %s.%s not in data.external %v", i, image, col, evs[i].Data.External)
		}
		if string(img[col]) != "null" {
			t.Errorf("event %d: %s.%s is %.40s, want null with the value in the object store", i, image, col, img[col])
		}
		if r.Bucket != "TRIBUTARY_BIG_VALUES" || r.Name != evs[i].ID+"/"+image+"/"+col || r.Size != len(wantInline[col]) || !strings.HasPrefix(r.Digest, "SHA-256=") {
			t.Errorf("event %d: %s.%s reference %+v", i, image, col, r)
		}
		got, err := store.GetBytes(context.Background(), r.Name)
		if err != nil {
			t.Fatalf("get %s: %v", r.Name, err)
		}
		if string(got) != wantInline[col] {
			t.Errorf("object %s: %d bytes, not the value's JSON text (%d bytes)", r.Name, len(got), len(wantInline[col]))
		}
	}
	check(1, "after", "body", evs[1].Data.After)
	check(2, "before", "body", evs[2].Data.Before)
	check(2, "after", "body", evs[2].Data.After)
	check(2, "after", "doc", evs[2].Data.After)
	if got := string(evs[2].Data.After["name"]); got != `"both"` {
		t.Errorf("update after.name = %s, want \"both\" (small values stay in the event)", got)
	}

	// tail --inline prints the events as they would have been.
	code, out, errOut := runTributary(t, time.Minute, "tail", "--nats", ns.url(), "--stream", "TRIBUTARY_BIG", "--inline")
	if code != 0 {
		t.Fatalf("tail --inline exited %d:\n%s", code, errOut)
	}
	var inlined []largeEvent
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e largeEvent
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		inlined = append(inlined, e)
	}
	if len(inlined) != 3 || inlined[1].Data.External != nil || inlined[2].Data.External != nil ||
		string(inlined[1].Data.After["body"]) != wantInline["body"] || string(inlined[2].Data.Before["body"]) != wantInline["body"] ||
		string(inlined[2].Data.After["body"]) != wantInline["body"] || string(inlined[2].Data.After["doc"]) != wantInline["doc"] {
		t.Errorf("tail --inline did not give the values back in place (%d events)", len(inlined))
	}

	// status reports the store beside the stream.
	st := status(t, "--nats", ns.url(), "--stream", "TRIBUTARY_BIG")
	stored := uint64(2*len(wantInline["body"]) + len(wantInline["doc"])) // two BLOB values and one TEXT
	if v := st.Stream.Values; v == nil || v.Bucket != "TRIBUTARY_BIG_VALUES" || v.Bytes < stored {
		t.Errorf("status stream.values = %+v, want bucket TRIBUTARY_BIG_VALUES holding at least the %d bytes stored", v, stored)
	}
}
