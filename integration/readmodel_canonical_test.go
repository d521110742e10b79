package integration

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
)

// compareSQLiteTypeModel compares the SQLite read model lite with the
// source (database types, which holds rows rows in all), every typed
// column of every row, in the form docs/EVENTS.md gives for SQLite:
// numbers as the exact digits (INTEGER, or TEXT for BIGINT UNSIGNED,
// BIT(64) and DECIMAL), temporal values as the events write them
// (TIMESTAMP in RFC 3339 with a Z), text and SET labels as UTF-8, binary
// and geometry as their bytes, JSON as the same document; FLOAT and DOUBLE
// by the source server's own comparison of each value read back.
func compareSQLiteTypeModel(t *testing.T, conn *client.Conn, lite *sql.DB, rows int) {
	t.Helper()
	have, values := 0, 0
	for _, tb := range typeMatrix {
		var srcExprs, liteExprs []string
		for _, c := range tb.columns {
			q := `"` + c.name + `"`
			srcExprs = append(srcExprs, c.expect.selectExpr(c.name)+" AS `"+c.name+"`")
			switch c.expect {
			case asText, asSet, asJSON, asBase64:
				liteExprs = append(liteExprs, "IIF("+q+" IS NULL, NULL, HEX("+q+"))") // HEX(NULL) is ''
			case asFloat, asDouble:
				liteExprs = append(liteExprs, q) // a float64, compared by the source server below
			default:
				liteExprs = append(liteExprs, "CAST("+q+" AS TEXT)")
			}
		}
		want := rowsAsStrings(t, conn, "SELECT id, "+strings.Join(srcExprs, ", ")+" FROM types.`"+tb.name+"` ORDER BY id")
		got, err := sqliteValues(lite, `SELECT id, `+strings.Join(liteExprs, ", ")+` FROM "`+tb.name+`" ORDER BY id`, len(tb.columns)+1)
		if err != nil {
			t.Fatalf("read model table %s: %v", tb.name, err)
		}
		have += len(want)
		if len(got) != len(want) {
			t.Errorf("SQLite %s holds %d rows, the source %d", tb.name, len(got), len(want))
			continue
		}
		for i, w := range want {
			id := *w["id"]
			if g := got[i][0]; g == nil || fmt.Sprint(g) != id {
				t.Errorf("SQLite %s row %d: id %v, the source's %s", tb.name, i, g, id)
				continue
			}
			for j, c := range tb.columns {
				values++
				if msg := sqliteValueDiff(t, conn, tb.name, id, c, w[c.name], got[i][j+1]); msg != "" {
					t.Errorf("SQLite %s row id %s column %s (%s): %s", tb.name, id, c.name, c.def, msg)
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
	t.Logf("SQLite: %d tables, %d rows, %d values equal to the source's", len(typeMatrix), rows, values)
}

// sqliteValueDiff says how got, the SQLite value, differs from src, the
// source's value as c.expect's selectExpr reads it; "" if it does not.
func sqliteValueDiff(t *testing.T, conn *client.Conn, table, id string, c typedColumn, src *string, got any) string {
	if src == nil || got == nil {
		if (src == nil) != (got == nil) {
			return fmt.Sprintf("read model %v, source %s", got, show(src))
		}
		return ""
	}
	switch c.expect {
	case asFloat, asDouble:
		f, ok := got.(float64)
		if !ok {
			return fmt.Sprintf("read model %T %v, want a REAL", got, got)
		}
		cast := "DOUBLE"
		if c.expect == asFloat {
			cast = "FLOAT"
		}
		v := strconv.FormatFloat(f, 'g', -1, 64)
		r := rowsAsStrings(t, conn, fmt.Sprintf("SELECT `%s` = CAST('%s' AS %s) AS eq FROM types.`%s` WHERE id = %s", c.name, v, cast, table, id))
		if len(r) != 1 || r[0]["eq"] == nil || *r[0]["eq"] != "1" {
			return fmt.Sprintf("read model %s, source %s: the source server does not find them equal", v, *src)
		}
		return ""
	case asJSON:
		var a, b any
		sb, _ := hex.DecodeString(*src)
		gb, _ := hex.DecodeString(got.(string))
		da, db := json.NewDecoder(strings.NewReader(string(sb))), json.NewDecoder(strings.NewReader(string(gb)))
		da.UseNumber()
		db.UseNumber()
		if err := da.Decode(&a); err != nil {
			return fmt.Sprintf("source document %.80q: %v", sb, err)
		}
		if err := db.Decode(&b); err != nil {
			return fmt.Sprintf("read model document %.80q: %v", gb, err)
		}
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("read model document %.80q, source %.80q", gb, sb)
		}
		return ""
	}
	want := *src
	if c.expect == asTimestamp && !strings.HasPrefix(want, "0000") {
		want = want[:10] + "T" + want[11:] + "Z" // the events' form, which SQLite keeps
	}
	if g := fmt.Sprint(got); g != want {
		s := g
		return fmt.Sprintf("read model %s, source %s", show(&s), show(&want))
	}
	return ""
}

// sqliteValues runs q and returns its rows of n columns as the driver scans
// them: nil, int64, float64 or string.
func sqliteValues(db *sql.DB, q string, n int) ([][]any, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals, ptrs := make([]any, n), make([]any, n)
		for i := range ptrs {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}
