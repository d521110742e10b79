package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// Open connects to the PostgreSQL database of dsn (a postgres:// URL or
// key=value string, as libpq reads it) as the read model of the sink named
// name, in the connection's current schema.
//
// Every session runs in UTC, whatever dsn says, so that timestamptz values
// read back as the events wrote them. Statements are sent without being
// prepared (pgx's exec mode): a cached statement keeps the parameter types
// of when it was prepared, and AlterTable changes column types under it.
func Open(ctx context.Context, dsn, name string) (*sqldb.Target, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	for k := range cfg.RuntimeParams {
		if strings.EqualFold(k, "timezone") {
			delete(cfg.RuntimeParams, k)
		}
	}
	cfg.RuntimeParams["TimeZone"] = "UTC"
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return sqldb.New(db, Dialect{}, name), nil
}

// Dialect is PostgreSQL's sqldb.Dialect.
type Dialect struct{}

func (Dialect) Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (Dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (Dialect) ForUpdate() string { return " FOR UPDATE" }

func (Dialect) MaxParams() int { return 65535 }

func (Dialect) ColumnType(c sink.Column) (string, error) {
	class, t, err := sink.ClassOf(c)
	if err != nil {
		return "", err
	}
	switch class {
	case sink.ClassInt:
		return intType(t), nil
	case sink.ClassUint64:
		return "numeric(20,0)", nil
	case sink.ClassDecimal:
		return fmt.Sprintf("numeric(%d,%d)", t.Arg(0, 10), t.Arg(1, 0)), nil
	case sink.ClassFloat:
		return "real", nil
	case sink.ClassDouble:
		return "double precision", nil
	case sink.ClassBit:
		if t.Arg(0, 1) < 64 {
			return "bigint", nil
		}
		return "numeric(20,0)", nil
	case sink.ClassYear:
		return "smallint", nil
	case sink.ClassDate:
		return "date", nil
	case sink.ClassDatetime:
		return fmt.Sprintf("timestamp(%d)", t.Arg(0, 0)), nil
	case sink.ClassTimestamp:
		return fmt.Sprintf("timestamptz(%d)", t.Arg(0, 0)), nil
	case sink.ClassTime:
		return "interval", nil
	case sink.ClassText, sink.ClassEnum:
		return "text", nil
	case sink.ClassBinary, sink.ClassGeometry:
		return "bytea", nil
	case sink.ClassSet:
		return "text[]", nil
	case sink.ClassJSON:
		return "jsonb", nil
	case sink.ClassUUID:
		return "uuid", nil
	case sink.ClassInet4, sink.ClassInet6:
		return "inet", nil
	}
	return "", fmt.Errorf("column type %q has no PostgreSQL type", c.Type)
}

// intType is the narrowest PostgreSQL integer that holds every value of a
// MySQL integer type other than BIGINT UNSIGNED.
func intType(t sink.Type) string {
	switch t.Base {
	case "tinyint":
		return "smallint"
	case "smallint":
		if t.Unsigned {
			return "integer"
		}
		return "smallint"
	case "mediumint":
		return "integer"
	case "int", "integer":
		if t.Unsigned {
			return "bigint"
		}
		return "integer"
	}
	return "bigint"
}

// Swap renames in one transaction: PostgreSQL's DDL is transactional, and
// a reader waits on the tables' locks, then sees them as committed.
func (d Dialect) Swap(ctx context.Context, db *sql.DB, renames [][2]string, drop []string) error {
	return sqldb.SwapInTx(ctx, d, db, renames, drop)
}

// Tables lists the tables of the connection's current schema.
func (Dialect) Tables(ctx context.Context, db *sql.DB, prefix string) ([]string, error) {
	return sqldb.QueryNames(ctx, db,
		"SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1) ORDER BY tablename", prefix)
}

// Upsert implements sqldb.Dialect.
func (d Dialect) Upsert(key, values []string) string { return sqldb.OnConflict(d, key, values) }
