package integration

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/nats-io/nats.go"
)

// postgresRefused are the type-matrix literals PostgreSQL has no form for,
// by design (docs/EVENTS.md, Read models > PostgreSQL; sink/postgres's
// Value), each with the nearest value it holds, by table and column. The
// sink would stop on them, correctly, so the PostgreSQL matrix writes the
// replacement instead:
//
//   - temporal.dt '2024-00-15' (a zero month) -> '2024-01-15';
//   - temporal.dtm6 '2024-02-00 00:00:00.000001' (a zero day) ->
//     '2024-02-01 00:00:00.000001';
//   - texts.vcb CHAR(0, 1, 31, 127) (text holding NUL) -> CHAR(1, 31, 127),
//     the other control characters kept;
//   - texts.u3 '\0' (the NUL character) -> CHAR(1), U+0001.
//
// Every other column and value (zero dates, year 0000, TIME's extremes,
// the numbers' limits, 4-byte UTF-8, empty strings, the JSON document
// null, ...) is the type matrix's own.
var postgresRefused = map[[2]string][2]string{
	{"temporal", "dt"}:   {"'2024-00-15'", "'2024-01-15'"},
	{"temporal", "dtm6"}: {"'2024-02-00 00:00:00.000001'", "'2024-02-01 00:00:00.000001'"},
	{"texts", "vcb"}:     {"CHAR(0, 1, 31, 127 USING utf8mb4)", "CHAR(1, 31, 127 USING utf8mb4)"},
	{"texts", "u3"}:      {"'\\0'", "CHAR(1 USING utf8mb3)"},
}

// postgresTypeMatrix is a copy of typeMatrix with the postgresRefused
// literals replaced; it fails the test if one is no longer in typeMatrix.
func postgresTypeMatrix(t *testing.T) []typeTable {
	t.Helper()
	replaced := map[[2]string]bool{}
	var m []typeTable
	for _, tb := range typeMatrix {
		tb.columns = slices.Clone(tb.columns)
		for i, c := range tb.columns {
			c.values = slices.Clone(c.values)
			r, ok := postgresRefused[[2]string{tb.name, c.name}]
			for j, v := range c.values {
				if ok && v == r[0] {
					c.values[j] = r[1]
					replaced[[2]string{tb.name, c.name}] = true
				}
			}
			tb.columns[i] = c
		}
		m = append(m, tb)
	}
	for k, r := range postgresRefused {
		if !replaced[k] {
			t.Fatalf("typeMatrix %s.%s no longer holds %s: update postgresRefused", k[0], k[1], r[0])
		}
	}
	return m
}

// TestReadModelPostgresTypeMatrix: every type of the type matrix, with its
// edge values (those PostgreSQL refuses by design replaced, see
// postgresRefused), goes from MariaDB through start, the stream and project
// into a PostgreSQL read model, which then equals the source in the form
// docs/EVENTS.md gives for PostgreSQL: after the inserts (one row per
// transaction), after the update that moves every row, after one
// transaction per table copying its rows 20 times (100 rows and more: the
// COPY path) and after the deletes. Each column has the documented
// PostgreSQL type (comparePostgresTypeModel).
func TestReadModelPostgresTypeMatrix(t *testing.T) {
	m := postgresTypeMatrix(t)
	db := startTypeMatrixDB(t)
	ns := startNATS(t)
	dsn := startPostgres(t)
	db.exec(append([]string{"CREATE DATABASE types"}, createTypeTables(m)...)...)
	const stream = "TRIBUTARY_PGTYPES"
	src := startTributary(t, "start", "--source", db.sourceURL(), "--nats", ns.url(), "--name", "pgtypes", "--server-id", "5757", "--include", "types.*")
	src.waitStreaming()
	cfg := writeConfig(t, ns.url(), stream, sinkConfig{Name: "pg", Kind: "postgres", DSN: dsn})
	proj := startTributary(t, "project", "--config", cfg)

	// The reader's session prints as the expectations are written: UTC,
	// ISO dates, intervals in PostgreSQL's own style.
	pg, err := sql.Open("pgx", dsn+"&TimeZone=UTC&DateStyle=ISO&IntervalStyle=postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	conn := db.root()
	reader := db.root()
	if _, err := reader.Execute("SET SESSION time_zone = '+00:00'"); err != nil {
		t.Fatal(err)
	}
	nc := ns.connect()
	events := 0
	caughtUp := func(written, left int) {
		t.Helper()
		events += written
		waitForEvents(t, src, nc, stream, events)
		waitPostgresCaughtUp(t, proj, pg, nc, stream, "pg")
		comparePostgresTypeModel(t, reader, pg, m, left)
	}
	everyTable := func(format func(tb typeTable) string) {
		t.Helper()
		for _, tb := range m {
			q := format(tb)
			if _, err := conn.Execute(q); err != nil {
				t.Fatalf("%.300s: %v", q, err)
			}
		}
	}

	rows := writeTypeRows(t, conn, m)
	caughtUp(rows, rows)
	everyTable(func(tb typeTable) string { return "UPDATE types." + tb.name + " SET id = id + 1000" })
	caughtUp(rows, rows)
	// 20 copies of each row (ids 2001…21005), one transaction per table.
	const copies = 20
	everyTable(func(tb typeTable) string {
		names := []string{"`id`"}
		for _, c := range tb.columns {
			names = append(names, "`"+c.name+"`")
		}
		var ks []string
		for k := range copies {
			ks = append(ks, fmt.Sprintf("SELECT %d AS k", k+1))
		}
		cols := strings.Join(names[1:], ", ")
		return fmt.Sprintf("INSERT INTO types.%s (id, %s) SELECT id + 1000 * k, %s FROM types.%s, (%s) ks",
			tb.name, cols, cols, tb.name, strings.Join(ks, " UNION ALL "))
	})
	caughtUp(copies*rows, (copies+1)*rows)
	everyTable(func(tb typeTable) string { return "DELETE FROM types." + tb.name })
	caughtUp((copies+1)*rows, 0)

	if code := proj.stop(); code != 0 {
		t.Errorf("project exited %d after SIGTERM, want 0\n%s", code, proj.stderr)
	}
	if code := src.stop(); code != 0 {
		t.Errorf("start exited %d after SIGTERM, want 0\n%s", code, src.stderr)
	}
}

// waitPostgresCaughtUp waits until the checkpoint of sink name's
// PostgreSQL read model is the stream's last sequence; it fails with
// project's log if project exits or a minute passes first.
func waitPostgresCaughtUp(t *testing.T, p *proc, pg *sql.DB, nc *nats.Conn, stream, name string) {
	t.Helper()
	last := streamLastSeq(t, nc, stream)
	if last == 0 {
		t.Fatalf("stream %s holds no events", stream)
	}
	deadline := time.Now().Add(time.Minute)
	for seq := checkpointSeq(pg, name); seq != last; seq = checkpointSeq(pg, name) {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("PostgreSQL read model at sequence %d, the stream's last is %d (project exited: %v):\n%s", seq, last, p.exited(), p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pgColumn is a column as PostgreSQL's information_schema describes it,
// written as its type would be declared: numeric(p,s), timestamp(n),
// timestamptz(n), text[], or the data_type as it is.
type pgColumn struct{ name, typ string }

func pgColumns(t *testing.T, pg *sql.DB, table string) []pgColumn {
	t.Helper()
	rows, err := pg.Query(`SELECT column_name, data_type, udt_name, numeric_precision, numeric_scale, datetime_precision
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []pgColumn
	for rows.Next() {
		var name, dataType, udt string
		var prec, scale, dtPrec sql.NullInt64
		if err := rows.Scan(&name, &dataType, &udt, &prec, &scale, &dtPrec); err != nil {
			t.Fatal(err)
		}
		typ := dataType
		switch dataType {
		case "numeric":
			if prec.Valid {
				typ = fmt.Sprintf("numeric(%d,%d)", prec.Int64, scale.Int64)
			}
		case "timestamp without time zone":
			typ = fmt.Sprintf("timestamp(%d)", dtPrec.Int64)
		case "timestamp with time zone":
			typ = fmt.Sprintf("timestamptz(%d)", dtPrec.Int64)
		case "ARRAY":
			typ = strings.TrimPrefix(udt, "_") + "[]"
		}
		out = append(out, pgColumn{name, typ})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var typeArgs = regexp.MustCompile(`^[a-z0-9]+\((\d+)(?:,(\d+))?\)`)

// postgresColumnType is the PostgreSQL type docs/EVENTS.md gives for a
// source column, in pgColumns's notation.
func postgresColumnType(c columnDef) string {
	arg := func(i int, def string) string {
		if m := typeArgs.FindStringSubmatch(c.typ); m != nil && m[i] != "" {
			return m[i]
		}
		return def
	}
	unsigned := strings.HasSuffix(c.typ, " unsigned") || strings.Contains(c.typ, " unsigned ")
	switch c.dataType {
	case "tinyint", "year":
		return "smallint"
	case "smallint":
		if unsigned {
			return "integer"
		}
		return "smallint"
	case "mediumint":
		return "integer"
	case "int":
		if unsigned {
			return "bigint"
		}
		return "integer"
	case "bigint":
		if unsigned {
			return "numeric(20,0)"
		}
		return "bigint"
	case "decimal":
		return "numeric(" + arg(1, "10") + "," + arg(2, "0") + ")"
	case "float":
		return "real"
	case "double":
		return "double precision"
	case "bit":
		if arg(1, "1") == "64" {
			return "numeric(20,0)"
		}
		return "bigint"
	case "date":
		return "date"
	case "datetime":
		return "timestamp(" + arg(1, "0") + ")"
	case "timestamp":
		return "timestamptz(" + arg(1, "0") + ")"
	case "time":
		return "interval"
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum":
		if c.json {
			return "jsonb"
		}
		return "text"
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
		"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		return "bytea"
	case "set":
		return "text[]"
	case "uuid":
		return "uuid"
	case "inet4", "inet6":
		return "inet"
	}
	return "no documented type for " + c.typ
}

// comparePostgresTypeModel compares the PostgreSQL read model pg with the
// source (database types, which holds rows rows in all; conn's session at
// +00:00): each table's columns, the source's in order, with the type
// docs/EVENTS.md gives; then every column of every row, invisible and
// generated ones too, read as PostgreSQL's text (col::text in a UTC
// session) and compared with the source value turned into that text by
// the documented rule (postgresText). bytea is compared as its hex digits;
// FLOAT and DOUBLE by the source server's own comparison of the value read
// back; JSON by PostgreSQL's comparison of both documents as jsonb.
func comparePostgresTypeModel(t *testing.T, conn *client.Conn, pg *sql.DB, m []typeTable, rows int) {
	t.Helper()
	have, values, types := 0, 0, 0
	for _, tb := range m {
		kinds := map[string]expect{"gv": asNumber, "gs": asText}
		defs := map[string]string{}
		for _, c := range tb.columns {
			kinds[c.name] = c.expect
			defs[c.name] = c.def
		}
		srcCols := columnDefs(t, conn, "types", tb.name)
		pgCols := pgColumns(t, pg, tb.name)
		if len(pgCols) == 0 {
			t.Errorf("PostgreSQL: no table %s", tb.name)
			continue
		}
		var srcNames, pgNames []string
		for i, c := range srcCols {
			srcNames = append(srcNames, c.name)
			if i < len(pgCols) {
				pgNames = append(pgNames, pgCols[i].name)
			}
		}
		if len(pgCols) != len(srcCols) || !slices.Equal(pgNames, srcNames) {
			t.Errorf("PostgreSQL %s: columns %v, the source's %v", tb.name, pgCols, srcNames)
			continue
		}
		for i, c := range srcCols {
			types++
			if want := postgresColumnType(c); pgCols[i].typ != want {
				t.Errorf("PostgreSQL %s column %s (%s): type %s, want %s", tb.name, c.name, c.typ, pgCols[i].typ, want)
			}
		}

		srcExprs, pgExprs := []string{"id"}, []string{`id::text`}
		var cols []columnDef
		for _, c := range srcCols[1:] {
			k, ok := kinds[c.name]
			if !ok {
				t.Fatalf("types.%s column %s: no expectation", tb.name, c.name)
			}
			cols = append(cols, c)
			q := `"` + c.name + `"`
			srcExprs = append(srcExprs, k.selectExpr(c.name)+" AS `"+c.name+"`")
			switch {
			case isGeometry(c.dataType):
				srcExprs = append(srcExprs, "ST_SRID(`"+c.name+"`) AS `"+c.name+"__srid`", "HEX(ST_AsBinary(`"+c.name+"`)) AS `"+c.name+"__wkb`")
				pgExprs = append(pgExprs, "upper(encode("+q+", 'hex'))")
			case k == asBase64:
				pgExprs = append(pgExprs, "upper(encode("+q+", 'hex'))")
			case c.dataType == "inet4" || c.dataType == "inet6":
				// inet's output form: text(inet) would add the netmask
				// (/32, /128) even to a host address; format's %s is NULL's ''.
				pgExprs = append(pgExprs, "CASE WHEN "+q+" IS NOT NULL THEN format('%s', "+q+") END")
			default:
				pgExprs = append(pgExprs, q+"::text")
			}
		}
		want := rowsAsStrings(t, conn, "SELECT "+strings.Join(srcExprs, ", ")+" FROM types.`"+tb.name+"` ORDER BY id")
		// By the column, not the output column id::text (ORDER BY would
		// take that one, and sort the text).
		got, err := pgTextRows(pg, "SELECT "+strings.Join(pgExprs, ", ")+` FROM "`+tb.name+`" t ORDER BY t.id`)
		if err != nil {
			t.Fatalf("PostgreSQL table %s: %v", tb.name, err)
		}
		have += len(want)
		if len(got) != len(want) {
			t.Errorf("PostgreSQL %s holds %d rows, the source %d", tb.name, len(got), len(want))
			continue
		}
		for i, w := range want {
			id := *w["id"]
			if g := got[i][0]; g == nil || *g != id {
				t.Errorf("PostgreSQL %s row %d: id %s, the source's %s", tb.name, i, show(g), id)
				continue
			}
			for j, c := range cols {
				values++
				if msg := postgresValueDiff(t, conn, pg, tb.name, id, c, kinds[c.name], w, got[i][j+1]); msg != "" {
					def := defs[c.name]
					if def == "" {
						def = c.typ
					}
					t.Errorf("PostgreSQL %s row id %s column %s (%s): %s", tb.name, id, c.name, def, msg)
				}
			}
		}
	}
	if have != rows {
		t.Fatalf("the source holds %d rows, want %d", have, rows)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("PostgreSQL: %d tables, %d column types as documented, %d rows, %d values equal to the source's", len(m), types, rows, values)
}

func isGeometry(dataType string) bool {
	switch dataType {
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		return true
	}
	return false
}

// postgresValueDiff says how got, PostgreSQL's text of column c, differs
// from the source's value in the source row w; "" if it does not.
func postgresValueDiff(t *testing.T, conn *client.Conn, pg *sql.DB, table, id string, c columnDef, k expect, w map[string]*string, got *string) string {
	t.Helper()
	src := w[c.name]
	if src == nil || got == nil {
		if (src == nil) != (got == nil) {
			return fmt.Sprintf("PostgreSQL %s, source %s", show(got), show(src))
		}
		return ""
	}
	switch {
	case k == asFloat || k == asDouble:
		cast := map[expect]string{asFloat: "FLOAT", asDouble: "DOUBLE"}[k]
		r := rowsAsStrings(t, conn, fmt.Sprintf("SELECT `%s` = CAST('%s' AS %s) AS eq FROM types.`%s` WHERE id = %s", c.name, *got, cast, table, id))
		if len(r) != 1 || r[0]["eq"] == nil || *r[0]["eq"] != "1" {
			return fmt.Sprintf("PostgreSQL %s, source %s: the source server does not find them equal", *got, *src)
		}
		return ""
	case k == asJSON:
		// PostgreSQL reads both documents as jsonb, which normalises them
		// (key order, spacing, numbers by value): the document null is
		// jsonb null, not SQL NULL (checked above).
		doc := hexText(t, *src)
		var eq bool
		if err := pg.QueryRow(`SELECT $1::jsonb = $2::jsonb`, doc, *got).Scan(&eq); err != nil {
			t.Fatalf("compare jsonb %.80q with %.80q: %v", doc, *got, err)
		}
		if !eq {
			return fmt.Sprintf("PostgreSQL document %.80q, source %.80q", *got, doc)
		}
		return ""
	}
	want := postgresText(t, c, k, w)
	if *got != want {
		return fmt.Sprintf("PostgreSQL %s, want %s (source %s)", show(got), show(&want), show(src))
	}
	return ""
}

// postgresText is the text PostgreSQL prints for the source value of
// column c (w[c.name], read with k's selectExpr, TIMESTAMP at +00:00), by
// the rules of docs/EVENTS.md: integers, BIT, YEAR and DECIMAL as the same
// digits; a zero DATE, DATETIME or TIMESTAMP as -infinity and the year 0000
// as 1 BC, a fraction without its trailing zeros, TIMESTAMP with +00;
// TIME as the interval of that many hours, minutes and seconds; text as
// the characters; bytea as hex digits, GEOMETRY's being the SRID (4 bytes,
// little-endian) then the WKB; SET as the text[] of its labels; UUID and
// INET as their text.
func postgresText(t *testing.T, c columnDef, k expect, w map[string]*string) string {
	t.Helper()
	src := *w[c.name]
	switch {
	case isGeometry(c.dataType):
		srid, err := strconv.ParseUint(*w[c.name+"__srid"], 10, 32)
		if err != nil {
			t.Fatalf("ST_SRID(%s) = %q: %v", c.name, *w[c.name+"__srid"], err)
		}
		return strings.ToUpper(fmt.Sprintf("%x", binary.LittleEndian.AppendUint32(nil, uint32(srid)))) + *w[c.name+"__wkb"]
	case k == asText:
		return hexText(t, src)
	case k == asSet:
		var labels []string
		if s := hexText(t, src); s != "" {
			labels = strings.Split(s, ",")
		}
		return pgArrayText(labels)
	}
	switch c.dataType {
	case "date", "datetime":
		return pgTemporalText(src, "")
	case "timestamp":
		return pgTemporalText(src, "+00")
	case "time":
		return trimFraction(src)
	}
	return src // numbers, binary strings' hex digits, UUID, INET4, INET6
}

// pgTemporalText is MariaDB's text of a DATE, DATETIME or TIMESTAMP as
// PostgreSQL prints it, zone being the UTC offset timestamptz prints.
func pgTemporalText(s, zone string) string {
	if strings.Trim(s, "0-: .") == "" {
		return "-infinity"
	}
	s = trimFraction(s) + zone
	if strings.HasPrefix(s, "0000") {
		s = "0001" + s[4:] + " BC"
	}
	return s
}

// trimFraction drops the trailing zeros of a fraction of a second, and
// its point if nothing is left: PostgreSQL prints no more digits than the
// value needs.
func trimFraction(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// pgArrayText is a text[]'s output: each element quoted (with \ before "
// and \) if it is empty, NULL or holds a delimiter, brace, quote,
// backslash or white space.
func pgArrayText(elems []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		if e == "" || strings.EqualFold(e, "NULL") || strings.ContainsAny(e, "{},\"\\ \t\n\r\v\f") {
			e = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(e) + `"`
		}
		b.WriteString(e)
	}
	b.WriteByte('}')
	return b.String()
}

// pgTextRows runs q and returns its rows, every column read as text (nil
// for NULL).
func pgTextRows(pg *sql.DB, q string) ([][]*string, error) {
	rows, err := pg.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]*string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]*string, len(cols))
		for i, v := range vals {
			if v.Valid {
				s := v.String
				row[i] = &s
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
