package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/tributary-cdc/tributary/sink"
)

// CreateStatement is the CREATE TABLE statement of a read-model table.
func CreateStatement(d Dialect, name string, tb sink.Table) (string, error) {
	var cols []string
	for _, c := range tb.Columns {
		def, err := columnDef(d, c)
		if err != nil {
			return "", err
		}
		cols = append(cols, def)
	}
	if len(tb.Key) > 0 {
		cols = append(cols, "PRIMARY KEY ("+quoteAll(d, tb.Key)+")")
	}
	return "CREATE TABLE " + d.Quote(name) + " (" + strings.Join(cols, ", ") + ")", nil
}

func columnDef(d Dialect, c sink.Column) (string, error) {
	typ, err := d.ColumnType(c)
	if err != nil {
		return "", fmt.Errorf("column %s: %w", c.Name, err)
	}
	def := d.Quote(c.Name) + " " + typ
	if !c.Nullable {
		def += " NOT NULL"
	}
	return def, nil
}

func quoteAll(d Dialect, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = d.Quote(n)
	}
	return strings.Join(q, ", ")
}

// AlterInPlace returns the statements that rename, drop and add columns
// (added columns are nullable: the rows already there get NULL, as the
// binlog never says what a default gave them). A change it cannot make
// that way (a column's type, nullability or charset, or the key) is left to
// rebuild, which returns the statements for the whole change.
func AlterInPlace(d Dialect, table string, from, to sink.Table, renamed map[string]string,
	rebuild func(table string, from, to sink.Table, renamed map[string]string) ([]string, error)) ([]string, error) {
	if !slices.Equal(from.Key, renamedKey(to.Key, renamed)) {
		return rebuild(table, from, to, renamed)
	}
	kept := map[string]bool{}
	for _, c := range to.Columns {
		old := c.Name
		if o, ok := renamed[c.Name]; ok {
			old = o
		}
		if oc, ok := from.Column(old); ok {
			kept[old] = true
			oc.Name = c.Name
			if oc != c {
				return rebuild(table, from, to, renamed)
			}
		}
	}
	alter := "ALTER TABLE " + d.Quote(table) + " "
	var out []string
	for n, o := range renamed {
		out = append(out, alter+"RENAME COLUMN "+d.Quote(o)+" TO "+d.Quote(n))
	}
	slices.Sort(out)
	for _, c := range from.Columns {
		if !kept[c.Name] {
			out = append(out, alter+"DROP COLUMN "+d.Quote(c.Name))
		}
	}
	for _, c := range to.Columns {
		old := c.Name
		if o, ok := renamed[c.Name]; ok {
			old = o
		}
		if _, ok := from.Column(old); !ok {
			c.Nullable = true
			def, err := columnDef(d, c)
			if err != nil {
				return nil, err
			}
			out = append(out, alter+"ADD COLUMN "+def)
		}
	}
	return out, nil
}

// renamedKey is key with its renamed columns given their old names.
func renamedKey(key []string, renamed map[string]string) []string {
	out := slices.Clone(key)
	for i, k := range out {
		if o, ok := renamed[k]; ok {
			out[i] = o
		}
	}
	return out
}

// SwapInTx swaps tables in one transaction, for databases whose DDL is
// transactional.
func SwapInTx(ctx context.Context, d Dialect, db *sql.DB, renames [][2]string, drop []string) error {
	tx, err := d.Begin(ctx, db)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, n := range drop {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+d.Quote(n)); err != nil {
			return fmt.Errorf("drop %s: %w", n, err)
		}
	}
	for _, r := range renames {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+d.Quote(r[0])+" RENAME TO "+d.Quote(r[1])); err != nil {
			return fmt.Errorf("rename %s to %s: %w", r[0], r[1], err)
		}
	}
	return tx.Commit()
}

// QueryNames runs a query that returns one string column.
func QueryNames(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// OnConflict is the Upsert clause of PostgreSQL and SQLite (3.24+).
func OnConflict(d Dialect, key, values []string) string {
	if len(key) == 0 {
		return "" // no key, no conflict: a plain insert
	}
	clause := " ON CONFLICT (" + quoteAll(d, key) + ") DO "
	if len(values) == 0 {
		return clause + "NOTHING"
	}
	set := make([]string, len(values))
	for i, v := range values {
		set[i] = d.Quote(v) + " = EXCLUDED." + d.Quote(v)
	}
	return clause + "UPDATE SET " + strings.Join(set, ", ")
}
