// Package sqlite is the embedded read-model target: one SQLite file per
// sink (modernc.org/sqlite, no cgo), in WAL mode so that readers never
// wait for the projection nor it for them.
//
// Values are held in SQLite's own types, in the canonical form of
// docs/EVENTS.md ("Read models"): integers as INTEGER, BIGINT UNSIGNED,
// BIT(64) and DECIMAL as TEXT of their exact digits (an INTEGER column
// would turn values past 2^63-1 into REAL), FLOAT and DOUBLE as REAL,
// temporal values as TEXT exactly as the events write them, binary and
// geometry values as BLOB, SET as its labels joined by commas, JSON as the
// document's text.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// Open opens (creating it if needed) the SQLite file at path as the read
// model of the sink named name.
func Open(ctx context.Context, path, name string) (*sqldb.Target, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(60000)")
	// NORMAL: in WAL mode a commit is atomic but fsynced only at WAL
	// checkpoints, so a power failure may undo the last commits. The read
	// model's checkpoint goes back with their rows, and project applies them
	// again: nothing is lost or doubled, and no commit waits for the disk.
	q.Add("_pragma", "synchronous(NORMAL)")
	// A read model's working set is its tables' pages: a 64 MiB page cache
	// keeps updates and deletes of older rows from reading them again from
	// the file for every statement.
	q.Add("_pragma", "cache_size(-65536)")
	// Checkpoint the WAL into the file at 25,000 pages (~100 MiB) instead
	// of 1,000: a page updated by many transactions is copied once, not
	// once per transaction (1,000,000 events of random updates: 63,000 →
	// 72,000 events/s at 10,000 pages, and 77,000 → 85,000 at 25,000 with
	// rebuild-sized transactions; docs/BENCHMARKS.md).
	q.Add("_pragma", "wal_autocheckpoint(25000)")
	// Every transaction (sqldb begins them with BeginTx) takes the write
	// lock at BEGIN, so that two writers never deadlock on an upgrade.
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return sqldb.New(db, Dialect{}, name), nil
}

// Dialect is SQLite's sqldb.Dialect.
type Dialect struct{}

func (Dialect) Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (Dialect) Placeholder(int) string { return "?" }

func (Dialect) ForUpdate() string { return "" } // the transaction holds the write lock from BEGIN IMMEDIATE

func (Dialect) MaxParams() int { return 32766 }

func (Dialect) ColumnType(c sink.Column) (string, error) {
	class, t, err := sink.ClassOf(c)
	if err != nil {
		return "", err
	}
	switch class {
	case sink.ClassInt, sink.ClassYear:
		return "INTEGER", nil
	case sink.ClassBit:
		if t.Arg(0, 1) < 64 {
			return "INTEGER", nil
		}
		return "TEXT", nil
	case sink.ClassFloat, sink.ClassDouble:
		return "REAL", nil
	case sink.ClassBinary, sink.ClassGeometry:
		return "BLOB", nil
	}
	return "TEXT", nil
}

// Value implements sqldb.Dialect: the value in the column's SQLite type
// (ColumnType), checked as every target checks it (sink.Int, sink.Uint,
// sink.Decimal).
func (Dialect) Value(c sink.Column, v json.RawMessage) (any, error) {
	class, t, err := sink.ClassOf(c)
	if err != nil {
		return nil, err
	}
	switch class {
	case sink.ClassInt, sink.ClassYear:
		return sink.Int(t, v)
	case sink.ClassUint64, sink.ClassBit:
		u, err := sink.Uint(t, v)
		if err != nil {
			return nil, err
		}
		if class == sink.ClassBit && t.Arg(0, 1) < 64 {
			return int64(u), nil // INTEGER
		}
		return strconv.FormatUint(u, 10), nil // TEXT: past 2^63-1 an INTEGER would become REAL
	case sink.ClassDecimal:
		return sink.Decimal(t, v)
	case sink.ClassFloat, sink.ClassDouble:
		return sink.Float(v, 64) // the event's number, read as a double (REAL)
	case sink.ClassBinary, sink.ClassGeometry:
		return sink.Bytes(v)
	case sink.ClassSet:
		return sink.JoinLabels(v)
	case sink.ClassJSON:
		return string(v), nil
	}
	return sink.String(v)
}

// AlterTable renames, adds and drops columns in place; a column whose type
// changes, or a key that changes, needs the table rebuilt, as SQLite
// cannot alter either.
func (d Dialect) AlterTable(table string, from, to sink.Table, renamed map[string]string) ([]string, error) {
	return sqldb.AlterInPlace(d, table, from, to, renamed, d.rebuildTable)
}

// rebuildTable copies the table into one of the new shape.
func (d Dialect) rebuildTable(table string, from, to sink.Table, renamed map[string]string) ([]string, error) {
	tmp := table + "__alter"
	create, err := sqldb.CreateStatement(d, tmp, to)
	if err != nil {
		return nil, err
	}
	var dst, src []string
	for _, c := range to.Columns {
		if oc, ok := sqldb.OldColumn(from, c.Name, renamed); ok {
			dst = append(dst, d.Quote(c.Name))
			src = append(src, d.Quote(oc.Name))
		}
	}
	return []string{
		"DROP TABLE IF EXISTS " + d.Quote(tmp),
		create,
		"INSERT INTO " + d.Quote(tmp) + " (" + strings.Join(dst, ", ") + ") SELECT " + strings.Join(src, ", ") + " FROM " + d.Quote(table),
		"DROP TABLE " + d.Quote(table),
		"ALTER TABLE " + d.Quote(tmp) + " RENAME TO " + d.Quote(table),
	}, nil
}

// Swap renames in one transaction: SQLite's DDL is transactional, and a
// reader sees the database as of its own read transaction.
func (d Dialect) Swap(ctx context.Context, db *sql.DB, renames [][2]string, drop []string) error {
	return sqldb.SwapInTx(ctx, d, db, renames, drop)
}

func (Dialect) Tables(ctx context.Context, db *sql.DB, prefix string) ([]string, error) {
	return sqldb.QueryNames(ctx, db, "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, length(?)) = ?", prefix, prefix)
}

func (d Dialect) Upsert(key, values []string) string { return sqldb.OnConflict(d, key, values) }
