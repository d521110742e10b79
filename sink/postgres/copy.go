package postgres

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// BulkUpsert implements sqldb.Bulk: the rows go by COPY into a temporary
// table shaped like the target table, and from there into it with one
// INSERT … SELECT … ON CONFLICT. COPY's text format is parsed by the
// columns' own input functions, as a bound parameter would be, but without
// a statement of thousands of parameters to parse and plan.
//
// Three round trips: the staging table is made for each write (the target
// table may have changed shape since the last one in this transaction) and
// dropped by the statement that empties it, so that none is left for the
// next write to find.
func (d Dialect) BulkUpsert(ctx context.Context, conn *sql.Conn, table string, tb sink.Table, rows [][]any) error {
	stage := "pg_temp." + d.Quote(table+"__stage")
	names, values := sqldb.UpsertColumns(tb)
	cols := sqldb.QuoteAll(d, names)
	var b strings.Builder
	for _, r := range rows {
		for j, v := range r {
			if j > 0 {
				b.WriteByte('\t')
			}
			if err := copyText(&b, v); err != nil {
				return fmt.Errorf("column %s: %w", tb.Columns[j].Name, err)
			}
		}
		b.WriteByte('\n')
	}
	// ON COMMIT DROP, should the INSERT below not run: the transaction then
	// fails, and its end drops the table.
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+stage+" (LIKE "+d.Quote(table)+") ON COMMIT DROP"); err != nil {
		return fmt.Errorf("staging table: %w", err)
	}
	err := conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn().PgConn()
		_, err := pc.CopyFrom(ctx, strings.NewReader(b.String()), "COPY "+stage+" ("+cols+") FROM STDIN")
		return err
	})
	if err != nil {
		return fmt.Errorf("copy into the staging table: %w", err)
	}
	// Two statements, one round trip: a statement without parameters goes
	// by the simple query protocol.
	insert := "INSERT INTO " + d.Quote(table) + " (" + cols + ") SELECT " + cols + " FROM " + stage + d.Upsert(tb.Key, values) +
		"; DROP TABLE " + stage
	if _, err := conn.ExecContext(ctx, insert); err != nil {
		return fmt.Errorf("insert from the staging table: %w", err)
	}
	return nil
}

var _ sqldb.Bulk = Dialect{}

// copyText writes v in COPY's text format: \N for NULL, backslash escapes,
// bytea as \\x and hex digits, a text[] as an array literal.
func copyText(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString(`\N`)
	case string:
		copyEscape(b, v)
	case []byte:
		b.WriteString(`\\x`)
		b.WriteString(hex.EncodeToString(v))
	case []string:
		var a strings.Builder
		a.WriteByte('{')
		for i, s := range v {
			if i > 0 {
				a.WriteByte(',')
			}
			a.WriteByte('"')
			a.WriteString(arrayEscape.Replace(s))
			a.WriteByte('"')
		}
		a.WriteByte('}')
		copyEscape(b, a.String())
	default:
		return fmt.Errorf("no COPY form for %T", v)
	}
	return nil
}

// arrayEscape escapes a quoted element of an array literal.
var arrayEscape = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func copyEscape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
}
