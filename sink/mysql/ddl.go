package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// ColumnType is the source's own type, with the column's charset and that
// charset's binary collation for character columns (see the package doc).
func (d Dialect) ColumnType(c sink.Column) (string, error) {
	class, t, err := sink.ClassOf(c) // also what keeps anything but a type out of the DDL
	if err != nil {
		return "", err
	}
	typ := strings.TrimSpace(c.Type)
	switch {
	case class == sink.ClassJSON:
		// MariaDB makes it a utf8mb4_bin LONGTEXT with a json_valid check,
		// as the source's.
		return typ, nil
	case class == sink.ClassTimestamp && c.Nullable:
		// Said, as a server with explicit_defaults_for_timestamp off would
		// make it NOT NULL DEFAULT CURRENT_TIMESTAMP.
		return typ + " NULL", nil
	case c.Charset == "" || !character[t.Base]:
		return typ, nil
	}
	if !charsetName(c.Charset) {
		return "", fmt.Errorf("column %s: charset %q is not a charset name", c.Name, c.Charset)
	}
	if c.Charset == "binary" {
		return typ + " CHARACTER SET binary", nil
	}
	collation := c.Charset + "_bin"
	if d.mariaDB {
		collation = c.Charset + "_nopad_bin"
	}
	return typ + " CHARACTER SET " + c.Charset + " COLLATE " + collation, nil
}

// character are the types that take a charset.
var character = map[string]bool{"char": true, "varchar": true, "tinytext": true, "text": true,
	"mediumtext": true, "longtext": true, "enum": true, "set": true}

func charsetName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return s != ""
}

// AlterTable changes the table in place with one ALTER TABLE statement,
// atomic, which on MariaDB does nothing on a table it has already changed
// (see the package doc): columns dropped, then each column of to in order,
// added or changed (renamed, retyped, moved after the one before it) where
// it differs, then the key. Added columns are nullable: the rows already
// there get NULL, as the binlog never says what a default gave them.
func (d Dialect) AlterTable(table string, from, to sink.Table, renamed map[string]string) ([]string, error) {
	ifExists, ifNotExists := "", ""
	if d.mariaDB {
		ifExists, ifNotExists = "IF EXISTS ", "IF NOT EXISTS "
	}
	// origin is the index in from of the column a column of to was
	// (sqldb.OldColumn); -1 for a column added.
	origin := func(name string) int {
		oc, ok := sqldb.OldColumn(from, name, renamed)
		if !ok {
			return -1
		}
		return slices.IndexFunc(from.Columns, func(f sink.Column) bool { return f.Name == oc.Name })
	}
	// away are the old names of renamed columns.
	away := map[string]bool{}
	for n, o := range renamed {
		away[o] = n != o
	}
	kept := map[string]bool{}
	for _, c := range to.Columns {
		if i := origin(c.Name); i >= 0 {
			kept[from.Columns[i].Name] = true
		}
	}
	var clauses []string
	for _, c := range from.Columns {
		if !kept[c.Name] {
			clauses = append(clauses, "DROP COLUMN "+ifExists+d.Quote(c.Name))
		}
	}
	// A column unchanged stays where it is if it follows, in the old
	// table, the last one that stayed; every other column is placed after
	// the one before it in to, in to's order, which leaves to's order.
	last, prev := -1, ""
	for _, c := range to.Columns {
		pos := " FIRST"
		if prev != "" {
			pos = " AFTER " + d.Quote(prev)
		}
		prev = c.Name
		i := origin(c.Name)
		if i < 0 {
			c.Nullable = true
			def, err := sqldb.ColumnDef(d, c)
			if err != nil {
				return nil, err
			}
			add := "ADD COLUMN " + ifNotExists
			if away[c.Name] {
				add = "ADD COLUMN " // IF NOT EXISTS would find the column renamed away
			}
			clauses = append(clauses, add+def+pos)
			continue
		}
		if from.Columns[i] == c && i > last {
			last = i
			continue
		}
		def, err := sqldb.ColumnDef(d, c)
		if err != nil {
			return nil, err
		}
		clauses = append(clauses, "CHANGE COLUMN "+ifExists+d.Quote(from.Columns[i].Name)+" "+def+pos)
	}
	if sqldb.KeyChanged(from, to, renamed) {
		if len(from.Key) > 0 {
			if d.mariaDB {
				clauses = append(clauses, "DROP INDEX IF EXISTS `PRIMARY`")
			} else {
				clauses = append(clauses, "DROP PRIMARY KEY")
			}
		}
		if len(to.Key) > 0 {
			clauses = append(clauses, "ADD PRIMARY KEY ("+sqldb.QuoteAll(d, to.Key)+")")
		}
	}
	if len(clauses) == 0 {
		return nil, nil
	}
	return []string{"ALTER TABLE " + d.Quote(table) + " " + strings.Join(clauses, ", ")}, nil
}

// Swap renames in one RENAME TABLE statement, which MySQL runs atomically:
// the live tables (those to drop, and any table already holding a name a
// shadow table takes) to names of their own, and the shadow tables to the
// live names; it drops the old tables after. Tables a crash left under
// those names are dropped first; their names end as the shadow tables'
// do, so that Discard drops any left over otherwise.
func (d Dialect) Swap(ctx context.Context, db *sql.DB, renames [][2]string, drop []string) error {
	names, err := d.Tables(ctx, db, "")
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	suffix := ""
	for _, r := range renames {
		if s, ok := strings.CutPrefix(r[0], r[1]); ok {
			suffix = s
			break
		}
	}
	var old []string
	moving := map[string]bool{}
	for _, n := range drop {
		if slices.Contains(names, n) {
			old, moving[n] = append(old, n), true
		}
	}
	for _, r := range renames {
		if slices.Contains(names, r[1]) && !moving[r[1]] {
			old, moving[r[1]] = append(old, r[1]), true
		}
	}
	var pairs, gone []string
	for _, n := range old {
		tmp := asideName(n, suffix)
		pairs = append(pairs, d.Quote(n)+" TO "+d.Quote(tmp))
		gone = append(gone, d.Quote(tmp))
	}
	for _, r := range renames {
		pairs = append(pairs, d.Quote(r[0])+" TO "+d.Quote(r[1]))
	}
	if len(gone) > 0 {
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+strings.Join(gone, ", ")); err != nil {
			return fmt.Errorf("drop tables an earlier swap left: %w", err)
		}
	}
	if len(pairs) > 0 {
		if _, err := db.ExecContext(ctx, "RENAME TABLE "+strings.Join(pairs, ", ")); err != nil {
			return fmt.Errorf("rename tables: %w", err)
		}
	}
	if len(gone) > 0 {
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+strings.Join(gone, ", ")); err != nil {
			return fmt.Errorf("drop the old tables: %w", err)
		}
	}
	return nil
}

// asideName is the name a live table has between a swap and its drop:
// its own, within MySQL's 64 characters (a hash of the table's name in
// place of a name too long).
func asideName(table, suffix string) string {
	const prefix, max = "_tributary_old_", 64
	if n := prefix + table + suffix; len(n) <= max {
		return n
	}
	h := sha256.Sum256([]byte(table))
	if n := prefix + hex.EncodeToString(h[:8]) + suffix; len(n) <= max {
		return n
	}
	return prefix + hex.EncodeToString(h[:8])
}

// Tables lists the base tables of the connection's database.
func (Dialect) Tables(ctx context.Context, db *sql.DB, prefix string) ([]string, error) {
	names, err := sqldb.QueryNames(ctx, db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")
	if err != nil {
		return nil, err
	}
	// information_schema compares names without case: filter here.
	return slices.DeleteFunc(names, func(n string) bool { return !strings.HasPrefix(n, prefix) }), nil
}
