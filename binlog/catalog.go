package binlog

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
)

// errCatalog marks a failure to read a table definition from the source:
// a connection problem that a retry may cure, not a row that cannot be
// decoded.
var errCatalog = errors.New("cannot read the table definition from the source")

// tableCatalog is a catalog whose cached definitions DDL invalidates, and
// that knows what the schema history needs.
type tableCatalog interface {
	catalog
	charsets
	forget()
	// liveTables reads tables' definitions if the binlog still ends at
	// file:pos, and returns nil if it does not (see sqlCatalog.liveTables).
	liveTables(tables []tableRef, file string, pos uint32) (map[tableRef]*tableSchema, error)
	// environment is what decides the columns of tables created from here
	// on: the default charset of each database and of the server, and
	// whether TIMESTAMP columns are NOT NULL unless declared NULL.
	environment() (databases map[string]string, server string, timestampNotNull bool, err error)
}

// sqlCatalog answers the catalog questions from the source's
// information_schema. It reads the definition as it is now, so it is only
// asked about tables when their TableMapEvent changes shape.
type sqlCatalog struct {
	conn     *client.Conn
	srv      Server
	charsets map[uint64]string // by collation id
	byName   map[string]string // charset by collation name
	maxLens  map[string]int    // bytes per character, by charset
	special  map[string]map[string]kind
}

func newSQLCatalog(conn *client.Conn, srv Server) (*sqlCatalog, error) {
	r, err := conn.Execute("SELECT ID, COLLATION_NAME, CHARACTER_SET_NAME FROM information_schema.COLLATIONS")
	if err != nil {
		return nil, fmt.Errorf("read collations: %w", err)
	}
	c := &sqlCatalog{conn: conn, srv: srv, charsets: make(map[uint64]string, r.RowNumber()),
		byName: make(map[string]string, r.RowNumber()), maxLens: map[string]int{}, special: map[string]map[string]kind{}}
	for i := range r.RowNumber() {
		id, _ := r.GetUint(i, 0)
		name, _ := r.GetString(i, 1)
		cs, _ := r.GetString(i, 2)
		c.charsets[id] = cs
		c.byName[strings.ToLower(name)] = cs
	}
	if r, err = conn.Execute("SELECT CHARACTER_SET_NAME, MAXLEN FROM information_schema.CHARACTER_SETS"); err != nil {
		return nil, fmt.Errorf("read charsets: %w", err)
	}
	for i := range r.RowNumber() {
		name, _ := r.GetString(i, 0)
		n, _ := r.GetInt(i, 1)
		c.maxLens[strings.ToLower(name)] = int(n)
	}
	return c, nil
}

func (c *sqlCatalog) charsetOf(collation uint64) (string, bool) {
	cs, ok := c.charsets[collation]
	return cs, ok
}

func (c *sqlCatalog) maxLen(charset string) (int, bool) {
	n, ok := c.maxLens[charset]
	return n, ok
}

func (c *sqlCatalog) charsetOfCollation(name string) (string, bool) {
	name = strings.ToLower(name)
	if rest, ok := strings.CutPrefix(name, "utf8_"); ok {
		name = "utf8mb3_" + rest // MariaDB's utf8 is utf8mb3
	}
	cs, ok := c.byName[name]
	return cs, ok
}

func (c *sqlCatalog) environment() (map[string]string, string, bool, error) {
	r, err := c.conn.Execute("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA")
	if err != nil {
		return nil, "", false, fmt.Errorf("%w: read the databases' default charsets: %w", errCatalog, err)
	}
	dbs := make(map[string]string, r.RowNumber())
	for i := range r.RowNumber() {
		name, _ := r.GetString(i, 0)
		cs, _ := r.GetString(i, 1)
		dbs[name] = cs
	}
	if r, err = c.conn.Execute("SELECT @@character_set_server, @@explicit_defaults_for_timestamp"); err != nil {
		return nil, "", false, fmt.Errorf("%w: read the server's default charset: %w", errCatalog, err)
	}
	server, _ := r.GetString(0, 0)
	explicit, _ := r.GetInt(0, 1)
	return dbs, server, explicit == 0, nil
}

// specialColumns finds the MariaDB columns whose binlog type does not say
// what they hold: JSON (LONGTEXT with a column-level CHECK
// (json_valid(`col`)), which MariaDB adds for JSON), UUID, INET4 and INET6
// (fixed-length binary strings on the wire).
func (c *sqlCatalog) specialColumns(schema, table string) (map[string]kind, error) {
	if c.srv.Flavor != FlavorMariaDB {
		return nil, nil // MySQL's JSON has a binlog type of its own; MySQL has no UUID or INET types
	}
	k := schema + "\x00" + table
	if cols, ok := c.special[k]; ok {
		return cols, nil
	}
	ref := tableRef{schema, table}
	defs, err := c.readTables([]tableRef{ref})
	if err != nil {
		return nil, err
	}
	cols := map[string]kind{}
	if def := defs[ref]; def != nil {
		cols = def.specialKinds()
	}
	c.special[k] = cols
	return cols, nil
}

// ColumnInfo describes a column in a schema_changed event.
type ColumnInfo struct {
	Name string `json:"name"`
	// Type is as information_schema.COLUMNS.COLUMN_TYPE, e.g. decimal(7,3)
	// unsigned, except for MariaDB's JSON columns (LONGTEXT with a
	// json_valid check): json.
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
	// Charset is the charset of character columns; empty for the others.
	Charset string `json:"charset,omitempty"`
}

// liveTables reads the definitions of tables, but only if the binlog ends
// at file:pos before and after the reads: then the definitions read are
// the ones the DDL ending there left. It returns nil otherwise (more has
// been written since, perhaps more DDL). A table that does not exist is
// gone.
func (c *sqlCatalog) liveTables(tables []tableRef, file string, pos uint32) (map[tableRef]*tableSchema, error) {
	atHead := func() (bool, error) {
		head, _, err := headFileOffset(c.conn, c.srv)
		if err != nil {
			return false, fmt.Errorf("%w: %w", errCatalog, err)
		}
		return head.File == file && head.Offset == uint64(pos), nil
	}
	if ok, err := atHead(); !ok || err != nil {
		return nil, err
	}
	out, err := c.readTables(tables)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if out[t] == nil {
			out[t] = &tableSchema{gone: true}
		}
	}
	if ok, err := atHead(); !ok || err != nil {
		return nil, err
	}
	return out, nil
}

// tablesWhere is the condition on an information_schema table that selects
// the given tables (nil: every table outside the system schemas), with
// schemaColumn naming its database column.
func tablesWhere(tables []tableRef, schemaColumn string) (string, []any) {
	var where []string
	var args []any
	if tables == nil {
		for _, db := range slices.Sorted(maps.Keys(systemSchemas)) {
			where = append(where, "?")
			args = append(args, db)
		}
		return schemaColumn + " NOT IN (" + strings.Join(where, ", ") + ")", args
	}
	for _, t := range tables {
		where = append(where, "("+schemaColumn+" = ? AND TABLE_NAME = ?)")
		args = append(args, t.db, t.name)
	}
	return "(" + strings.Join(where, " OR ") + ")", args
}

// readTables reads the definitions of the base tables given (nil: every
// table outside the system schemas); a table that does not exist is not
// in the result.
func (c *sqlCatalog) readTables(tables []tableRef) (map[tableRef]*tableSchema, error) {
	out := map[tableRef]*tableSchema{}
	where, args := tablesWhere(tables, "TABLE_SCHEMA")
	r, err := c.conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES
		WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%w: read table definitions: %w", errCatalog, err)
	}
	for i := range r.RowNumber() {
		db, _ := r.GetString(i, 0)
		name, _ := r.GetString(i, 1)
		collation, _ := r.GetString(i, 2)
		cs, _ := c.charsetOfCollation(collation)
		out[tableRef{db, name}] = &tableSchema{charset: cs, columns: []ColumnInfo{}, primaryKey: []string{}}
	}
	json := map[tableRef]map[string]bool{}
	if c.srv.Flavor == FlavorMariaDB {
		checkWhere, checkArgs := tablesWhere(tables, "CONSTRAINT_SCHEMA")
		r, err := c.conn.Execute(`SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
			WHERE `+checkWhere, checkArgs...)
		if err != nil {
			return nil, fmt.Errorf("%w: read JSON columns: %w", errCatalog, err)
		}
		for i := range r.RowNumber() {
			db, _ := r.GetString(i, 0)
			table, _ := r.GetString(i, 1)
			name, _ := r.GetString(i, 2)
			clause, _ := r.GetString(i, 3)
			if isJSONCheck(name, clause) {
				ref := tableRef{db, table}
				if json[ref] == nil {
					json[ref] = map[string]bool{}
				}
				json[ref][name] = true
			}
		}
	}
	r, err = c.conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME
		FROM information_schema.COLUMNS WHERE `+where+` ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`, args...)
	if err != nil {
		return nil, fmt.Errorf("%w: read columns: %w", errCatalog, err)
	}
	for i := range r.RowNumber() {
		db, _ := r.GetString(i, 0)
		table, _ := r.GetString(i, 1)
		t := out[tableRef{db, table}]
		if t == nil {
			continue // a view
		}
		var col ColumnInfo
		col.Name, _ = r.GetString(i, 2)
		col.Type, _ = r.GetString(i, 3)
		null, _ := r.GetString(i, 4)
		col.Nullable = null == "YES"
		col.Charset, _ = r.GetString(i, 5)
		if json[tableRef{db, table}][col.Name] {
			col.Type = "json"
		}
		t.columns = append(t.columns, col)
	}
	r, err = c.conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE INDEX_NAME = 'PRIMARY' AND `+where+` ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX`, args...)
	if err != nil {
		return nil, fmt.Errorf("%w: read primary keys: %w", errCatalog, err)
	}
	for i := range r.RowNumber() {
		db, _ := r.GetString(i, 0)
		table, _ := r.GetString(i, 1)
		if t := out[tableRef{db, table}]; t != nil {
			name, _ := r.GetString(i, 2)
			t.primaryKey = append(t.primaryKey, name)
		}
	}
	return out, nil
}

// isJSONCheck tells the check MariaDB adds to a JSON column: named after
// the column, json_valid(`column`).
func isJSONCheck(name, clause string) bool {
	return strings.EqualFold(strings.ReplaceAll(clause, " ", ""), "json_valid(`"+strings.ReplaceAll(name, "`", "``")+"`)")
}

// forget drops what is known of table definitions, after DDL.
func (c *sqlCatalog) forget() {
	clear(c.special)
}
