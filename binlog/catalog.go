package binlog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
)

// errCatalog marks a failure to read a table definition from the source:
// a connection problem that a retry may cure, not a row that cannot be
// decoded.
var errCatalog = errors.New("cannot read the table definition from the source")

// tableCatalog is a catalog whose cached definitions DDL invalidates.
type tableCatalog interface {
	catalog
	forget()
}

// sqlCatalog answers the catalog questions from the source's
// information_schema. It reads the definition as it is now, so it is only
// asked about tables when their TableMapEvent changes shape.
type sqlCatalog struct {
	conn     *client.Conn
	mariadb  bool
	charsets map[uint64]string
	special  map[string]map[string]kind
}

func newSQLCatalog(conn *client.Conn, srv Server) (*sqlCatalog, error) {
	r, err := conn.Execute("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS")
	if err != nil {
		return nil, fmt.Errorf("read collations: %w", err)
	}
	c := &sqlCatalog{conn: conn, mariadb: srv.Flavor == FlavorMariaDB, charsets: make(map[uint64]string, r.RowNumber()), special: map[string]map[string]kind{}}
	for i := range r.RowNumber() {
		id, _ := r.GetUint(i, 0)
		cs, _ := r.GetString(i, 1)
		c.charsets[id] = cs
	}
	return c, nil
}

func (c *sqlCatalog) charsetOf(collation uint64) (string, bool) {
	cs, ok := c.charsets[collation]
	return cs, ok
}

// specialColumns finds the MariaDB columns whose binlog type does not say
// what they hold: JSON (LONGTEXT with a column-level CHECK
// (json_valid(`col`)), which MariaDB adds for JSON), UUID, INET4 and INET6
// (fixed-length binary strings on the wire).
func (c *sqlCatalog) specialColumns(schema, table string) (map[string]kind, error) {
	if !c.mariadb {
		return nil, nil // MySQL's JSON has a binlog type of its own; MySQL has no UUID or INET types
	}
	k := schema + "\x00" + table
	if cols, ok := c.special[k]; ok {
		return cols, nil
	}
	cols := map[string]kind{}
	r, err := c.conn.Execute(`SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("%w: read JSON columns of %s.%s: %w", errCatalog, schema, table, err)
	}
	for i := range r.RowNumber() {
		name, _ := r.GetString(i, 0)
		clause, _ := r.GetString(i, 1)
		if strings.EqualFold(strings.ReplaceAll(clause, " ", ""), "json_valid(`"+name+"`)") {
			cols[name] = kindJSON
		}
	}
	r, err = c.conn.Execute(`SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND DATA_TYPE IN ('uuid', 'inet4', 'inet6')`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("%w: read column types of %s.%s: %w", errCatalog, schema, table, err)
	}
	for i := range r.RowNumber() {
		name, _ := r.GetString(i, 0)
		typ, _ := r.GetString(i, 1)
		cols[name] = map[string]kind{"uuid": kindUUID, "inet4": kindInet4, "inet6": kindInet6}[strings.ToLower(typ)]
	}
	c.special[k] = cols
	return cols, nil
}

// ColumnInfo describes a column in a schema_changed event.
type ColumnInfo struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // as information_schema.COLUMNS.COLUMN_TYPE, e.g. decimal(7,3) unsigned
	Nullable bool   `json:"nullable"`
}

// liveColumns reads the columns of tables, but only if the binlog ends at
// file:pos before and after the reads: then the definitions read are the
// ones the DDL ending there left. It returns nil otherwise (more has been
// written since, perhaps more DDL). A table that does not exist has no
// columns.
func (c *sqlCatalog) liveColumns(tables []tableRef, file string, pos uint32) (map[tableRef][]ColumnInfo, error) {
	atHead := func() (bool, error) {
		r, err := c.conn.Execute("SHOW MASTER STATUS")
		if err != nil {
			return false, fmt.Errorf("%w: read the binlog head: %w", errCatalog, err)
		}
		if r.RowNumber() == 0 {
			return false, nil
		}
		f, _ := r.GetString(0, 0)
		p, _ := r.GetUint(0, 1)
		return f == file && p == uint64(pos), nil
	}
	if ok, err := atHead(); !ok || err != nil {
		return nil, err
	}
	out := make(map[tableRef][]ColumnInfo, len(tables))
	for _, t := range tables {
		r, err := c.conn.Execute(`SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, t.db, t.name)
		if err != nil {
			return nil, fmt.Errorf("%w: read the columns of %s.%s: %w", errCatalog, t.db, t.name, err)
		}
		cols := []ColumnInfo{}
		for i := range r.RowNumber() {
			name, _ := r.GetString(i, 0)
			typ, _ := r.GetString(i, 1)
			null, _ := r.GetString(i, 2)
			cols = append(cols, ColumnInfo{Name: name, Type: typ, Nullable: null == "YES"})
		}
		out[t] = cols
	}
	if ok, err := atHead(); !ok || err != nil {
		return nil, err
	}
	return out, nil
}

// forget drops what is known of table definitions, after DDL.
func (c *sqlCatalog) forget() {
	clear(c.special)
}
