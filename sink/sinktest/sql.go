package sinktest

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// SQLRows is Harness.Rows for the targets built on sqldb: it reads the
// table through db (a connection of the reader's own), ordered by the
// first column (the suite's tables are keyed by it), with integers and
// floats in their shortest decimal text.
func SQLRows(t *testing.T, db *sql.DB, tg sink.Target, m sink.Model, table sink.TableName) ([][]string, bool) {
	t.Helper()
	st := tg.(*sqldb.Target)
	ctx := context.Background()
	name := st.TableName(m, table)
	names, err := st.Dialect().Tables(ctx, db, name)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	found := false
	for _, n := range names {
		found = found || n == name
	}
	if !found {
		return nil, false
	}
	q := st.Dialect().Quote(name)
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+q+" ORDER BY 1")
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	out := [][]string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		r := make([]string, len(vals))
		for i, v := range vals {
			r[i] = text(v)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return out, true
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(v)
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	}
	return strings.TrimSpace(fmt.Sprint(v))
}
