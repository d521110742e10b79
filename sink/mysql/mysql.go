package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// Open connects to the database named in dsn (go-sql-driver's form,
// user:secret@tcp(host:3306)/readmodels) as the read model of the sink
// named name. The session settings the target depends on replace any the
// DSN gives: charset utf8mb4, time_zone +00:00, sql_mode
// ALLOW_INVALID_DATES, InnoDB for new tables, server-side prepared
// statements (no client interpolation) and temporal values as text.
func Open(ctx context.Context, dsn, name string) (*sqldb.Target, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql dsn: %w", err) // the driver's errors never repeat the DSN
	}
	if cfg.DBName == "" {
		return nil, errors.New("mysql dsn names no database (user:secret@tcp(host:3306)/readmodels)")
	}
	cfg.ParseTime = false
	cfg.InterpolateParams = false
	cfg.MultiStatements = false
	if err := cfg.Apply(mysql.Charset("utf8mb4", "")); err != nil {
		return nil, err
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	// Nothing strict: a zero date, a zero in a date, a day 31 of any month
	// and ENUM's invalid-value marker go in as the source holds them.
	cfg.Params["sql_mode"] = "'ALLOW_INVALID_DATES'"
	cfg.Params["default_storage_engine"] = "InnoDB" // transactional tables
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql %s/%s: %w", cfg.Addr, cfg.DBName, err)
	}
	db := sql.OpenDB(conn)
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql %s/%s: %w", cfg.Addr, cfg.DBName, err)
	}
	return sqldb.New(db, Dialect{mariaDB: strings.Contains(version, "MariaDB")}, name), nil
}

// Dialect is MySQL's and MariaDB's sqldb.Dialect.
type Dialect struct {
	// mariaDB allows what only MariaDB has: IF [NOT] EXISTS in ALTER
	// TABLE, NO PAD binary collations.
	mariaDB bool
}

func (Dialect) Quote(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

func (Dialect) Placeholder(int) string { return "?" }

func (Dialect) ForUpdate() string { return " FOR UPDATE" }

func (Dialect) MaxParams() int { return 65535 }

// Reopen implements sqldb.Reopener: DDL has committed tx's transaction,
// and the statements after it would each commit on their own.
func (Dialect) Reopen(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "START TRANSACTION")
	return err
}

// Upsert implements sqldb.Dialect: ON DUPLICATE KEY UPDATE, with the new
// row's values (VALUES(), which MariaDB and MySQL 8 both read).
func (d Dialect) Upsert(key, values []string) string {
	if len(key) == 0 {
		return "" // no key, no conflict: a plain insert
	}
	if len(values) == 0 {
		values = key[:1] // a no-op assignment: the row is its key
	}
	set := make([]string, len(values))
	for i, v := range values {
		set[i] = d.Quote(v) + " = VALUES(" + d.Quote(v) + ")"
	}
	return " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
}
