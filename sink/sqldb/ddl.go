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
		def, err := ColumnDef(d, c)
		if err != nil {
			return "", err
		}
		cols = append(cols, def)
	}
	if len(tb.Key) > 0 {
		cols = append(cols, "PRIMARY KEY ("+QuoteAll(d, tb.Key)+")")
	}
	return "CREATE TABLE " + d.Quote(name) + " (" + strings.Join(cols, ", ") + ")", nil
}

// ColumnDef is a column's definition in CREATE TABLE and ALTER TABLE:
// its quoted name, the dialect's type and NOT NULL unless nullable.
func ColumnDef(d Dialect, c sink.Column) (string, error) {
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

// QuoteAll quotes names and joins them with commas.
func QuoteAll(d Dialect, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = d.Quote(n)
	}
	return strings.Join(q, ", ")
}

// AlterInPlace returns the statements that drop, rename and add columns
// (added columns are nullable: the rows already there get NULL, as the
// binlog never says what a default gave them). A change it cannot make
// that way (a column's type, nullability or charset, or the key) is left to
// rebuild, which returns the statements for the whole change.
func AlterInPlace(d Dialect, table string, from, to sink.Table, renamed map[string]string,
	rebuild func(table string, from, to sink.Table, renamed map[string]string) ([]string, error)) ([]string, error) {
	if KeyChanged(from, to, renamed) {
		return rebuild(table, from, to, renamed)
	}
	kept := map[string]bool{}
	var added []sink.Column
	for _, c := range to.Columns {
		oc, ok := OldColumn(from, c.Name, renamed)
		if !ok {
			added = append(added, c)
			continue
		}
		kept[oc.Name] = true
		oc.Name = c.Name
		if oc != c {
			return rebuild(table, from, to, renamed)
		}
	}
	alter := "ALTER TABLE " + d.Quote(table) + " "
	var out []string
	// Dropped first, so that a column can take the name of a dropped one.
	for _, c := range from.Columns {
		if !kept[c.Name] {
			out = append(out, alter+"DROP COLUMN "+d.Quote(c.Name))
		}
	}
	out = append(out, RenameColumns(d, table, kept, renamed)...)
	for _, c := range added {
		c.Nullable = true
		def, err := ColumnDef(d, c)
		if err != nil {
			return nil, err
		}
		out = append(out, alter+"ADD COLUMN "+def)
	}
	return out, nil
}

// OldColumn is the column of from that the new table's column name was:
// the one it was renamed from (renamed maps new names to old, as
// sink.Tx.AlterTable's does), else the one of the same name unless a
// rename took that one away; false for a column added.
func OldColumn(from sink.Table, name string, renamed map[string]string) (sink.Column, bool) {
	old, ok := renamed[name]
	if !ok {
		for n, o := range renamed {
			if o == name && n != name {
				return sink.Column{}, false // a new column under a name renamed away
			}
		}
		old = name
	}
	return from.Column(old)
}

// KeyChanged says whether the new table's key is other columns than the
// old one's.
func KeyChanged(from, to sink.Table, renamed map[string]string) bool {
	if len(from.Key) != len(to.Key) {
		return true
	}
	for i, k := range to.Key {
		if oc, ok := OldColumn(from, k, renamed); !ok || oc.Name != from.Key[i] {
			return true
		}
	}
	return false
}

// RenameColumns returns the statements that rename columns, once the old
// columns not kept are dropped: each straight to its new name, or, where a
// new name is still taken (names swapped, or passed along), all of them
// through a temporary name first.
func RenameColumns(d Dialect, table string, kept map[string]bool, renamed map[string]string) []string {
	var news []string
	taken := false
	for n, o := range renamed {
		if n != o {
			news = append(news, n)
			taken = taken || kept[n]
		}
	}
	slices.Sort(news)
	alter := "ALTER TABLE " + d.Quote(table) + " RENAME COLUMN "
	var out []string
	if !taken {
		for _, n := range news {
			out = append(out, alter+d.Quote(renamed[n])+" TO "+d.Quote(n))
		}
		return out
	}
	for i, n := range news {
		out = append(out, alter+d.Quote(renamed[n])+" TO "+d.Quote(fmt.Sprintf("_tributary_rename_%d", i)))
	}
	for i, n := range news {
		out = append(out, alter+d.Quote(fmt.Sprintf("_tributary_rename_%d", i))+" TO "+d.Quote(n))
	}
	return out
}

// SwapInTx swaps tables in one transaction, for databases whose DDL is
// transactional.
func SwapInTx(ctx context.Context, d Dialect, db *sql.DB, renames [][2]string, drop []string) error {
	tx, err := db.BeginTx(ctx, nil)
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

// UpsertColumns are the names of tb's columns, in order, and of those of
// them not in its key: what an upsert writes, and what Dialect.Upsert
// replaces.
func UpsertColumns(tb sink.Table) (names, values []string) {
	names = make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		names[i] = c.Name
		if !slices.Contains(tb.Key, c.Name) {
			values = append(values, c.Name)
		}
	}
	return names, values
}

// OnConflict is the Upsert clause of PostgreSQL and SQLite (3.24+).
func OnConflict(d Dialect, key, values []string) string {
	if len(key) == 0 {
		return "" // no key, no conflict: a plain insert
	}
	clause := " ON CONFLICT (" + QuoteAll(d, key) + ") DO "
	if len(values) == 0 {
		return clause + "NOTHING"
	}
	set := make([]string, len(values))
	for i, v := range values {
		set[i] = d.Quote(v) + " = EXCLUDED." + d.Quote(v)
	}
	return clause + "UPDATE SET " + strings.Join(set, ", ")
}
