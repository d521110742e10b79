package binlog

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The schema history follows the included tables' columns through the DDL
// statements in the binlog, so that a DDL event read long after it was
// written (after a stop, or while catching up) still carries the columns
// it left, and so that the columns whose binlog type does not say what they
// hold (MariaDB's JSON, UUID, INET4, INET6) are known as of each row rather
// than as the table is now.
//
// It starts from a baseline: the definitions read from the source when a
// stream began (Baseline), then the last schema_changed event of each table
// stored since (Schema.Add). Each statement is applied by applyDDL, which
// understands the DDL that changes columns as MariaDB does (types rendered
// as information_schema.COLUMNS.COLUMN_TYPE renders them). A statement it
// cannot follow makes the tables it names unknown, never wrong: their
// events carry "columns": null until a DDL is read while it is the last
// thing in the binlog, when the source itself is asked.

// tableSchema is what the history knows of one table.
type tableSchema struct {
	gone       bool   // the table does not exist
	charset    string // default charset of new character columns
	columns    []ColumnInfo
	primaryKey []string
}

func (t *tableSchema) clone() *tableSchema {
	c := *t
	c.columns = slices.Clone(t.columns)
	c.primaryKey = slices.Clone(t.primaryKey)
	return &c
}

func (t *tableSchema) column(name string) int {
	return slices.IndexFunc(t.columns, func(c ColumnInfo) bool { return strings.EqualFold(c.Name, name) })
}

func (t *tableSchema) inPrimaryKey(name string) bool {
	return slices.ContainsFunc(t.primaryKey, func(k string) bool { return strings.EqualFold(k, name) })
}

// charsets answers what the history needs to know about character sets.
type charsets interface {
	// maxLen is the longest character of a charset, in bytes.
	maxLen(charset string) (int, bool)
	// charsetOfCollation names the charset a collation belongs to.
	charsetOfCollation(collation string) (string, bool)
}

// schemaHistory is the state of the included tables as of the binlog
// position being read.
type schemaHistory struct {
	tables map[tableRef]*tableSchema // absent: not known, unless complete
	// complete: a baseline was taken with the same tables included, so an
	// included table absent from tables does not exist.
	complete bool
	included func(db, table string) bool

	databases        map[string]string // default charset by database
	serverCharset    string
	timestampNotNull bool // explicit_defaults_for_timestamp is OFF
	cs               charsets
}

// lookup returns what is known of a table: its schema (gone if it does not
// exist) or nil if nothing is.
func (h *schemaHistory) lookup(ref tableRef) *tableSchema {
	if t, ok := h.tables[ref]; ok {
		return t
	}
	if h.complete && h.included(ref.db, ref.name) {
		return &tableSchema{gone: true}
	}
	return nil
}

// set records a table's new state; nil makes it unknown.
func (h *schemaHistory) set(ref tableRef, t *tableSchema) {
	if h.included(ref.db, ref.name) {
		h.tables[ref] = t // nil is remembered: unknown even when complete
	}
}

// special returns the columns of a table whose binlog type does not say
// what they hold, by name, or ok false if the history does not know.
func (h *schemaHistory) special(ref tableRef) (map[string]kind, bool) {
	t := h.lookup(ref)
	if t == nil || t.gone {
		return nil, false
	}
	return t.specialKinds(), true
}

// specialKinds are the column types whose binlog type does not say what
// they hold, as ColumnInfo.Type names them.
var specialKinds = map[string]kind{"json": kindJSON, "uuid": kindUUID, "inet4": kindInet4, "inet6": kindInet6}

// specialKinds returns the table's columns of those types, by name.
func (t *tableSchema) specialKinds() map[string]kind {
	out := map[string]kind{}
	for _, c := range t.columns {
		if k, ok := specialKinds[c.Type]; ok {
			out[c.Name] = k
		}
	}
	return out
}

// errNotFollowed means a statement does what the history cannot follow.
var errNotFollowed = errors.New("not followed")

// apply follows one DDL statement. The tables it names but cannot follow
// become unknown.
func (h *schemaHistory) apply(stmt, defaultDB string) {
	if err := h.applyDDL(stmt, defaultDB); err != nil {
		for _, ref := range ddlTables(stmt, defaultDB) {
			h.set(ref, nil)
		}
	}
}

// ddlParser reads one statement, token by token.
type ddlParser struct {
	t         ddlTokens
	defaultDB string
}

// word consumes the keywords ws if they come next, in order.
func (p *ddlParser) word(ws ...string) bool {
	save := p.t.pos
	for _, w := range ws {
		if !strings.EqualFold(p.t.next(), w) {
			p.t.pos = save
			return false
		}
	}
	return true
}

func (p *ddlParser) peek() string {
	save := p.t.pos
	tok := p.t.next()
	p.t.pos = save
	return tok
}

// ident reads an identifier.
func (p *ddlParser) ident() (string, error) {
	tok := p.t.next()
	if tok == "" || len(tok) == 1 && !identByte(tok[0]) || tok[0] == '\'' || tok[0] == '"' {
		return "", fmt.Errorf("%w: want a name, found %q", errNotFollowed, tok)
	}
	return unquoteIdent(tok), nil
}

// table reads a table name, qualified or not.
func (p *ddlParser) table() (tableRef, error) {
	first, err := p.ident()
	if err != nil {
		return tableRef{}, err
	}
	if p.word(".") {
		second, err := p.ident()
		if err != nil {
			return tableRef{}, err
		}
		return tableRef{first, second}, nil
	}
	return tableRef{p.defaultDB, first}, nil
}

// lockedTable reads a table name and the lock wait that may follow it
// (WAIT n, NOWAIT).
func (p *ddlParser) lockedTable() (tableRef, error) {
	ref, err := p.table()
	if p.word("WAIT") {
		p.t.next()
	}
	p.word("NOWAIT")
	return ref, err
}

// skip passes over tokens up to the next comma or closing parenthesis at
// this level (not consumed), or the end of the statement.
func (p *ddlParser) skip() {
	for {
		switch p.peek() {
		case "", ",", ")", ";":
			return
		case "(":
			p.skipGroup()
		default:
			p.t.next()
		}
	}
}

// skipGroup passes over a parenthesised group, the opening one next.
func (p *ddlParser) skipGroup() {
	depth := 0
	for {
		switch p.t.next() {
		case "":
			return
		case "(":
			depth++
		case ")":
			if depth--; depth == 0 {
				return
			}
		}
	}
}

// optEquals consumes an optional "=".
func (p *ddlParser) optEquals() { p.word("=") }

// charsetOption reads "CHARACTER SET [=] x", "CHARSET [=] x" or
// "COLLATE [=] y" if one comes next, setting charset to the charset it
// names (err if the collation is not known), and reports whether it did.
func (h *schemaHistory) charsetOption(p *ddlParser, charset *string, err *error) bool {
	switch {
	case p.word("CHARACTER", "SET"), p.word("CHARSET"):
		p.optEquals()
		*charset = normalCharset(p.t.next())
	case p.word("COLLATE"):
		p.optEquals()
		name := p.t.next()
		cs, ok := h.cs.charsetOfCollation(unquoteString(unquoteIdent(name)))
		if !ok {
			*err = fmt.Errorf("%w: unknown collation %s", errNotFollowed, name)
		}
		*charset = cs
	default:
		return false
	}
	return true
}

func (h *schemaHistory) applyDDL(stmt, defaultDB string) error {
	p := &ddlParser{t: ddlTokens{s: stmt}, defaultDB: defaultDB}
	switch {
	case p.word("CREATE"):
		orReplace := p.word("OR", "REPLACE")
		if p.word("TEMPORARY") {
			return nil
		}
		if p.word("DATABASE") || p.word("SCHEMA") {
			return h.database(p, true)
		}
		if p.word("TABLE") {
			return h.createTable(p, orReplace)
		}
		return nil // indexes, views, routines: no column changes
	case p.word("ALTER"):
		if p.word("DATABASE") || p.word("SCHEMA") {
			return h.database(p, false)
		}
		p.word("ONLINE")
		p.word("IGNORE")
		if p.word("TABLE") {
			return h.alterTable(p)
		}
		return nil
	case p.word("DROP"):
		if p.word("TEMPORARY") {
			return nil
		}
		if p.word("TABLE") {
			p.word("IF", "EXISTS")
			for {
				ref, err := p.table()
				if err != nil {
					return err
				}
				h.set(ref, &tableSchema{gone: true})
				if !p.word(",") {
					return nil
				}
			}
		}
		if p.word("DATABASE") || p.word("SCHEMA") {
			p.word("IF", "EXISTS")
			db, err := p.ident()
			if err != nil {
				return err
			}
			for ref := range h.tables {
				if ref.db == db {
					h.set(ref, &tableSchema{gone: true})
				}
			}
			delete(h.databases, db)
		}
		return nil
	case p.word("RENAME"):
		if !p.word("TABLE") && !p.word("TABLES") {
			return nil
		}
		for {
			from, err := p.lockedTable()
			if err != nil {
				return err
			}
			if !p.word("TO") {
				return fmt.Errorf("%w: RENAME TABLE without TO", errNotFollowed)
			}
			to, err := p.table()
			if err != nil {
				return err
			}
			h.rename(from, to)
			if !p.word(",") {
				return nil
			}
		}
	}
	return nil // TRUNCATE and the rest change no columns
}

// rename moves a table's schema to another name.
func (h *schemaHistory) rename(from, to tableRef) {
	t := h.lookup(from)
	if t != nil {
		t = t.clone()
	}
	h.set(from, &tableSchema{gone: true})
	h.set(to, t)
}

// database follows CREATE DATABASE and ALTER DATABASE (the default charset
// of the tables created in it).
func (h *schemaHistory) database(p *ddlParser, create bool) error {
	if create {
		p.word("IF", "NOT", "EXISTS")
	}
	db := p.defaultDB
	if tok := strings.ToUpper(p.peek()); tok != "DEFAULT" && tok != "CHARACTER" && tok != "CHARSET" && tok != "COLLATE" {
		name, err := p.ident()
		if err != nil {
			return err
		}
		db = name
	}
	charset := ""
	var err error
	for p.peek() != "" {
		switch {
		case p.word("DEFAULT"):
		case h.charsetOption(p, &charset, &err):
			if err != nil {
				return err
			}
		default:
			p.t.next()
		}
	}
	if charset == "" && create {
		charset = h.serverCharset
	}
	if charset != "" {
		h.databases[db] = charset
	}
	return nil
}

func (h *schemaHistory) createTable(p *ddlParser, orReplace bool) error {
	ifNotExists := p.word("IF", "NOT", "EXISTS")
	ref, err := p.table()
	if err != nil {
		return err
	}
	if prev := h.lookup(ref); ifNotExists && !orReplace && (prev == nil || !prev.gone) {
		return nil // it exists (or may): unchanged
	}
	if p.word("LIKE") || p.word("(", "LIKE") {
		src, err := p.table()
		if err != nil {
			return err
		}
		t := h.lookup(src)
		if t == nil || t.gone {
			h.set(ref, nil)
			return nil
		}
		h.set(ref, t.clone())
		return nil
	}
	t := &tableSchema{charset: h.databases[ref.db]}
	var defs []func(*tableSchema) error // column definitions, once the table's charset is known
	if p.word("(") {
		for {
			p.constraint()
			switch {
			case p.word("PRIMARY", "KEY"):
				cols, err := p.keyColumns()
				if err != nil {
					return err
				}
				defs = append(defs, func(t *tableSchema) error { return t.setPrimaryKey(cols) })
			case p.isKeyOrConstraint():
				p.skip()
			case p.word("PERIOD"):
				return fmt.Errorf("%w: PERIOD", errNotFollowed)
			default:
				start := p.t.pos
				p.skip()
				text := p.t.s[start:p.t.pos]
				defs = append(defs, func(t *tableSchema) error {
					q := &ddlParser{t: ddlTokens{s: text}, defaultDB: p.defaultDB}
					c, pk, err := h.columnDef(q, t.charset)
					if err != nil {
						return err
					}
					t.columns = append(t.columns, c)
					if pk {
						t.primaryKey = []string{c.Name}
					}
					return nil
				})
			}
			if p.word(")") {
				break
			}
			if !p.word(",") {
				return fmt.Errorf("%w: column list", errNotFollowed)
			}
		}
	}
	if err := h.tableOptions(p, t); err != nil {
		return err
	}
	for _, def := range defs {
		if err := def(t); err != nil {
			return err
		}
	}
	if len(t.columns) == 0 {
		return fmt.Errorf("%w: no columns", errNotFollowed)
	}
	for _, k := range t.primaryKey {
		t.columns[t.column(k)].Nullable = false
	}
	h.set(ref, t)
	return nil
}

// constraint consumes "CONSTRAINT [name]" if it comes next.
func (p *ddlParser) constraint() {
	if p.word("CONSTRAINT") {
		switch strings.ToUpper(p.peek()) {
		case "PRIMARY", "UNIQUE", "FOREIGN", "CHECK":
		default:
			p.t.next()
		}
	}
}

// isKeyOrConstraint consumes the start of an index, key or constraint
// definition that changes no column.
func (p *ddlParser) isKeyOrConstraint() bool {
	for _, w := range []string{"KEY", "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK"} {
		if p.word(w) {
			return true
		}
	}
	return false
}

// keyColumns reads "(a, b(10) DESC, …)" after PRIMARY KEY [USING …].
func (p *ddlParser) keyColumns() ([]string, error) {
	if p.word("USING") {
		p.t.next()
	}
	if !p.word("(") {
		return nil, fmt.Errorf("%w: key columns", errNotFollowed)
	}
	var cols []string
	for {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		cols = append(cols, name)
		p.skip() // prefix length, ASC/DESC
		if p.word(")") {
			p.skip() // index options
			return cols, nil
		}
		if !p.word(",") {
			return nil, fmt.Errorf("%w: key columns", errNotFollowed)
		}
	}
}

func (t *tableSchema) setPrimaryKey(cols []string) error {
	for _, k := range cols {
		i := t.column(k)
		if i < 0 {
			return fmt.Errorf("%w: key column %s", errNotFollowed, k)
		}
		t.columns[i].Nullable = false
	}
	t.primaryKey = cols
	return nil
}

// tableOptions reads CREATE TABLE's options, for the default charset.
func (h *schemaHistory) tableOptions(p *ddlParser, t *tableSchema) (err error) {
	for {
		switch {
		case p.peek() == "", p.peek() == ";":
			return nil
		case p.word("DEFAULT"):
		case h.charsetOption(p, &t.charset, &err):
			if err != nil {
				return err
			}
		case p.word("WITH", "SYSTEM", "VERSIONING"):
			return fmt.Errorf("%w: system versioning", errNotFollowed)
		case p.word("AS"), p.word("SELECT"), p.word("IGNORE"), p.word("REPLACE"), p.word("("):
			return fmt.Errorf("%w: CREATE TABLE … SELECT", errNotFollowed)
		case p.word("PARTITION"):
			return nil // partitioning changes no column
		default:
			p.t.next()
		}
	}
}

// alterTable follows ALTER TABLE.
func (h *schemaHistory) alterTable(p *ddlParser) error {
	p.word("IF", "EXISTS")
	ref, err := p.lockedTable()
	if err != nil {
		return err
	}
	prev := h.lookup(ref)
	if prev == nil || prev.gone {
		// Unknown: so is the name it may be renamed to (apply marks
		// every table the statement names).
		return fmt.Errorf("%w: %s.%s is not known", errNotFollowed, ref.db, ref.name)
	}
	t := prev.clone()
	renameTo := ref
	for p.peek() != "" && p.peek() != ";" {
		switch {
		case p.word("ADD"):
			if err := h.alterAdd(p, t); err != nil {
				return err
			}
		case p.word("DROP"):
			if err := t.alterDrop(p); err != nil {
				return err
			}
		case p.word("MODIFY"):
			if err := h.redefine(p, t, false); err != nil {
				return err
			}
		case p.word("CHANGE"):
			if err := h.redefine(p, t, true); err != nil {
				return err
			}
		case p.word("RENAME", "COLUMN"):
			ifExists := p.word("IF", "EXISTS")
			from, err := p.ident()
			if err != nil {
				return err
			}
			if !p.word("TO") {
				return fmt.Errorf("%w: RENAME COLUMN without TO", errNotFollowed)
			}
			to, err := p.ident()
			if err != nil {
				return err
			}
			i := t.column(from)
			if i < 0 && !ifExists {
				return fmt.Errorf("%w: no column %s", errNotFollowed, from)
			}
			if i >= 0 {
				t.renameColumn(i, to)
			}
		case p.word("RENAME", "INDEX"), p.word("RENAME", "KEY"):
			p.skip()
		case p.word("RENAME"):
			if !p.word("TO") {
				p.word("AS")
			}
			if renameTo, err = p.table(); err != nil {
				return err
			}
		case p.word("CONVERT", "TO", "CHARACTER", "SET"), p.word("CONVERT", "TO", "CHARSET"):
			charset := normalCharset(p.t.next())
			if p.word("COLLATE") {
				p.t.next()
			}
			if err := h.convert(t, charset); err != nil {
				return err
			}
		case p.word("DEFAULT"):
			// DEFAULT CHARACTER SET or COLLATE: the loop comes back for it.
		case h.charsetOption(p, &t.charset, &err):
			// The table's default charset, for columns added later.
			if err != nil {
				return err
			}
		case p.word("ALTER"):
			p.word("COLUMN")
			p.skip() // SET/DROP DEFAULT, SET (IN)VISIBLE: no column changes
		case p.word("WITH", "SYSTEM", "VERSIONING"), p.word("WITHOUT", "SYSTEM", "VERSIONING"):
			return fmt.Errorf("%w: system versioning", errNotFollowed)
		case p.peek() == "(":
			p.skipGroup()
		case p.peek() == ")":
			return fmt.Errorf("%w: unbalanced parenthesis", errNotFollowed)
		default:
			// Table options (one after another, with or without commas),
			// ALGORITHM, LOCK, FORCE, ORDER BY, ENABLE/DISABLE KEYS: no
			// column changes.
			p.t.next()
		}
	}
	if renameTo != ref {
		h.set(ref, &tableSchema{gone: true})
	}
	h.set(renameTo, t)
	return nil
}

func (h *schemaHistory) alterAdd(p *ddlParser, t *tableSchema) error {
	p.constraint()
	switch {
	case p.word("PRIMARY", "KEY"):
		cols, err := p.keyColumns()
		if err != nil {
			return err
		}
		return t.setPrimaryKey(cols)
	case p.isKeyOrConstraint():
		p.skip()
		return nil
	case p.word("PARTITION"), p.word("PERIOD"):
		p.skip()
		return nil
	case p.word("SYSTEM", "VERSIONING"):
		return fmt.Errorf("%w: system versioning", errNotFollowed)
	}
	p.word("COLUMN")
	ifNotExists := p.word("IF", "NOT", "EXISTS")
	add := func() error {
		save := p.t.pos
		name, err := p.ident()
		if err != nil {
			return err
		}
		if t.column(name) >= 0 {
			if !ifNotExists {
				return fmt.Errorf("%w: column %s exists", errNotFollowed, name)
			}
			p.skip()
			return nil
		}
		p.t.pos = save
		c, pk, err := h.columnDef(p, t.charset)
		if err != nil {
			return err
		}
		at, err := p.position(t, len(t.columns))
		if err != nil {
			return err
		}
		t.columns = slices.Insert(t.columns, at, c)
		if pk {
			return t.setPrimaryKey([]string{c.Name})
		}
		return nil
	}
	if p.word("(") {
		for {
			if err := add(); err != nil {
				return err
			}
			if p.word(")") {
				return nil
			}
			if !p.word(",") {
				return fmt.Errorf("%w: column list", errNotFollowed)
			}
		}
	}
	return add()
}

func (t *tableSchema) alterDrop(p *ddlParser) error {
	switch {
	case p.word("PRIMARY", "KEY"):
		t.primaryKey = nil // the columns stay NOT NULL
		return nil
	case p.isKeyOrConstraint(), p.word("CONSTRAINT"), p.word("PARTITION"), p.word("PERIOD"):
		p.skip()
		return nil
	case p.word("SYSTEM", "VERSIONING"):
		return fmt.Errorf("%w: system versioning", errNotFollowed)
	}
	p.word("COLUMN")
	ifExists := p.word("IF", "EXISTS")
	name, err := p.ident()
	if err != nil {
		return err
	}
	p.skip() // RESTRICT, CASCADE
	i := t.column(name)
	if i < 0 {
		if ifExists {
			return nil
		}
		return fmt.Errorf("%w: no column %s", errNotFollowed, name)
	}
	t.columns = slices.Delete(t.columns, i, i+1)
	t.primaryKey = slices.DeleteFunc(t.primaryKey, func(k string) bool { return strings.EqualFold(k, name) })
	return nil
}

// redefine follows MODIFY and CHANGE: [COLUMN] [IF EXISTS], the column
// name (CHANGE only: MODIFY's definition starts with it), the definition
// (starting with the new name) and a position are next.
func (h *schemaHistory) redefine(p *ddlParser, t *tableSchema, change bool) error {
	p.word("COLUMN")
	ifExists := p.word("IF", "EXISTS")
	save := p.t.pos
	name, err := p.ident()
	if err != nil {
		return err
	}
	if !change {
		p.t.pos = save
	}
	i := t.column(name)
	if i < 0 {
		if ifExists {
			p.skip()
			return nil
		}
		return fmt.Errorf("%w: no column %s", errNotFollowed, name)
	}
	c, pk, err := h.columnDef(p, t.charset)
	if err != nil {
		return err
	}
	if t.inPrimaryKey(name) {
		c.Nullable = false
	}
	t.renameColumn(i, c.Name)
	t.columns = slices.Delete(t.columns, i, i+1)
	at, err := p.position(t, i)
	if err != nil {
		return err
	}
	t.columns = slices.Insert(t.columns, at, c)
	if pk {
		return t.setPrimaryKey([]string{c.Name})
	}
	return nil
}

func (t *tableSchema) renameColumn(i int, to string) {
	for k, name := range t.primaryKey {
		if strings.EqualFold(name, t.columns[i].Name) {
			t.primaryKey[k] = to
		}
	}
	t.columns[i].Name = to
}

// position reads an optional FIRST or AFTER col, returning where the
// column goes (def if neither is given).
func (p *ddlParser) position(t *tableSchema, def int) (int, error) {
	switch {
	case p.word("FIRST"):
		return 0, nil
	case p.word("AFTER"):
		name, err := p.ident()
		if err != nil {
			return 0, err
		}
		i := t.column(name)
		if i < 0 {
			return 0, fmt.Errorf("%w: no column %s", errNotFollowed, name)
		}
		return i + 1, nil
	}
	return def, nil
}

// convert follows CONVERT TO CHARACTER SET: every character column gets the
// charset, and TEXT columns grow to hold as many characters as before.
func (h *schemaHistory) convert(t *tableSchema, charset string) error {
	if charset == "binary" {
		return fmt.Errorf("%w: conversion to binary", errNotFollowed)
	}
	to, ok := h.cs.maxLen(charset)
	if !ok {
		return fmt.Errorf("%w: unknown charset %s", errNotFollowed, charset)
	}
	t.charset = charset
	for i := range t.columns {
		c := &t.columns[i]
		if c.Charset == "" || c.Type == "json" {
			continue
		}
		from, ok := h.cs.maxLen(c.Charset)
		if !ok {
			return fmt.Errorf("%w: unknown charset %s", errNotFollowed, c.Charset)
		}
		if size, isText := textSizes[c.Type]; isText && to > from {
			c.Type = textType(size / int64(from) * int64(to))
		}
		c.Charset = charset
	}
	return nil
}

// textSizes are the capacities of the TEXT types, in bytes.
var textSizes = map[string]int64{"tinytext": 255, "text": 65535, "mediumtext": 1<<24 - 1, "longtext": 1<<32 - 1}

// textType is the smallest TEXT type that holds n bytes.
func textType(n int64) string {
	switch {
	case n < 256:
		return "tinytext"
	case n < 1<<16:
		return "text"
	case n < 1<<24:
		return "mediumtext"
	}
	return "longtext"
}

func normalCharset(name string) string {
	name = strings.ToLower(unquoteString(unquoteIdent(name)))
	if name == "utf8" {
		return "utf8mb3" // MariaDB 10.6+ with old_mode UTF8_IS_UTF8MB3, the default
	}
	return name
}

func unquoteString(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		q := string(s[0])
		inner := strings.ReplaceAll(s[1:len(s)-1], q+q, q)
		var b strings.Builder
		for i := 0; i < len(inner); i++ {
			if inner[i] == '\\' && i+1 < len(inner) {
				i++
				switch inner[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				case '0':
					b.WriteByte(0)
				case 'Z':
					b.WriteByte(26)
				default:
					b.WriteByte(inner[i])
				}
				continue
			}
			b.WriteByte(inner[i])
		}
		return b.String()
	}
	return s
}

// Integer types: their canonical name and default display widths, signed
// and unsigned.
var intTypes = map[string]struct {
	name             string
	signed, unsigned int
}{
	"tinyint": {"tinyint", 4, 3}, "int1": {"tinyint", 4, 3},
	"smallint": {"smallint", 6, 5}, "int2": {"smallint", 6, 5},
	"mediumint": {"mediumint", 9, 8}, "int3": {"mediumint", 9, 8}, "middleint": {"mediumint", 9, 8},
	"int": {"int", 11, 10}, "integer": {"int", 11, 10}, "int4": {"int", 11, 10},
	"bigint": {"bigint", 20, 20}, "int8": {"bigint", 20, 20},
}

// Types whose COLUMN_TYPE is their name alone.
var plainTypes = map[string]string{
	"date": "date", "tinyblob": "tinyblob", "mediumblob": "mediumblob", "longblob": "longblob",
	"uuid": "uuid", "inet4": "inet4", "inet6": "inet6",
	"geometry": "geometry", "point": "point", "linestring": "linestring", "polygon": "polygon",
	"multipoint": "multipoint", "multilinestring": "multilinestring", "multipolygon": "multipolygon",
	"geometrycollection": "geometrycollection", "geomcollection": "geometrycollection",
}

// columnDef reads a column definition (name, type, attributes) up to the
// next comma or closing parenthesis at its level, or a FIRST/AFTER. It
// reports whether the column was declared the primary key.
func (h *schemaHistory) columnDef(p *ddlParser, tableCharset string) (c ColumnInfo, primary bool, err error) {
	if c.Name, err = p.ident(); err != nil {
		return c, false, err
	}
	typ := strings.ToLower(p.t.next())
	// Types of more than one word.
	switch typ {
	case "double":
		p.word("PRECISION")
	case "long":
		switch {
		case p.word("VARBINARY"):
			typ = "mediumblob"
		case p.word("VARCHAR"), p.word("VARCHARACTER"):
			typ = "mediumtext"
		default:
			typ = "mediumtext"
		}
	case "national", "nchar", "nvarchar":
		if typ == "national" {
			typ = strings.ToLower(p.t.next())
		}
		national := map[string]string{"char": "char", "character": "char", "nchar": "char", "varchar": "varchar", "nvarchar": "varchar"}[typ]
		if national == "" {
			return c, false, fmt.Errorf("%w: type NATIONAL %s", errNotFollowed, typ)
		}
		if national == "char" && (p.word("VARYING") || p.word("VARCHAR")) {
			national = "varchar"
		}
		typ, tableCharset = national, "utf8mb3"
	case "char", "character":
		typ = "char"
		if p.word("VARYING") {
			typ = "varchar"
		}
	}
	// Arguments: lengths, precision and scale, or ENUM/SET labels.
	var args []string
	if p.word("(") {
		for {
			tok := p.t.next()
			switch tok {
			case "":
				return c, false, fmt.Errorf("%w: unbalanced parenthesis", errNotFollowed)
			case ")":
			case ",":
				continue
			default:
				args = append(args, tok)
				continue
			}
			break
		}
	}
	var unsigned, zerofill bool
	var charset string
	for {
		switch {
		case p.word("UNSIGNED"):
			unsigned = true
		case p.word("SIGNED"):
		case p.word("ZEROFILL"):
			zerofill, unsigned = true, true
		case h.charsetOption(p, &charset, &err):
			if err != nil {
				return c, false, err
			}
		case p.word("BINARY"):
			// A _bin collation of the same charset.
		case p.word("ASCII"):
			charset = "latin1"
		case p.word("UNICODE"):
			charset = "ucs2"
		case p.word("BYTE"):
			charset = "binary"
		default:
			goto attributes
		}
	}
attributes:
	var notNull, explicitNull, jsonCheck bool
	constraintName := "" // of a CHECK: MariaDB calls a JSON column's check after the column
	for {
		switch tok := strings.ToUpper(p.peek()); tok {
		case "", ",", ")", ";", "FIRST", "AFTER":
			goto done
		case "(":
			p.skipGroup()
		case "NOT":
			p.t.next()
			if p.word("NULL") {
				notNull = true
			}
		case "NULL":
			p.t.next()
			explicitNull = true
		case "PRIMARY":
			p.t.next()
			p.word("KEY")
			primary = true
		case "KEY":
			p.t.next()
			primary = true
		case "UNIQUE":
			p.t.next()
			p.word("KEY")
		case "DEFAULT", "COMMENT", "COLUMN_FORMAT", "STORAGE":
			p.t.next()
			p.word("=")
			if p.peek() == "(" {
				p.skipGroup()
			} else if next := p.t.next(); next == "-" || next == "+" {
				p.t.next()
			}
		case "ON":
			p.t.next()
			p.word("UPDATE")
			p.t.next()
		case "REFERENCES":
			p.skip()
		case "CONSTRAINT":
			p.t.next()
			if !strings.EqualFold(p.peek(), "CHECK") {
				constraintName = unquoteIdent(p.t.next())
			}
		case "SERIAL":
			p.t.next()
			p.word("DEFAULT", "VALUE")
			notNull = true
		case "CHECK":
			p.t.next()
			save := p.t.pos
			if p.word("(", "json_valid", "(") {
				if name, e := p.ident(); e == nil && strings.EqualFold(name, c.Name) && p.word(")", ")") &&
					(constraintName == "" || strings.EqualFold(constraintName, c.Name)) {
					jsonCheck = true
					continue
				}
			}
			p.t.pos = save
			p.skipGroup()
		case "COLLATE", "CHARACTER", "CHARSET":
			if h.charsetOption(p, &charset, &err); err != nil {
				return c, false, err
			}
		default:
			p.t.next() // AUTO_INCREMENT, AS (…), VIRTUAL, INVISIBLE, CONSTRAINT name, …
		}
	}
done:
	if charset == "" {
		charset = tableCharset
	}
	c.Type, c.Charset, err = h.renderType(typ, args, unsigned, zerofill, charset)
	if err != nil {
		return c, false, fmt.Errorf("column %s: %w", c.Name, err)
	}
	if jsonCheck && c.Type == "longtext" {
		c.Type = "json"
	}
	c.Nullable = !notNull && !primary
	switch {
	case typ == "serial":
		c.Nullable = false
	case typ == "timestamp" && h.timestampNotNull && !explicitNull:
		c.Nullable = false
	}
	return c, primary, nil
}

// renderType writes a type as information_schema.COLUMNS.COLUMN_TYPE does,
// and the charset of character types ("" for the others).
func (h *schemaHistory) renderType(typ string, args []string, unsigned, zerofill bool, charset string) (string, string, error) {
	num := func(i int) (int64, bool) {
		if i >= len(args) {
			return 0, false
		}
		n, err := strconv.ParseInt(args[i], 10, 64)
		return n, err == nil
	}
	sign := func(s string) string {
		if unsigned {
			s += " unsigned"
		}
		if zerofill {
			s += " zerofill"
		}
		return s
	}
	withArgs := func(name string) string {
		if len(args) == 0 {
			return name
		}
		return name + "(" + strings.Join(args, ",") + ")"
	}
	// Character types need their charset.
	character := func() (int, error) {
		if charset == "" {
			return 0, fmt.Errorf("%w: the charset is not known", errNotFollowed)
		}
		n, ok := h.cs.maxLen(charset)
		if !ok {
			return 0, fmt.Errorf("%w: unknown charset %s", errNotFollowed, charset)
		}
		return n, nil
	}
	if it, ok := intTypes[typ]; ok {
		width := it.signed
		if unsigned {
			width = it.unsigned
		}
		if n, ok := num(0); ok {
			width = int(n)
		}
		return sign(it.name + "(" + strconv.Itoa(width) + ")"), "", nil
	}
	if name, ok := plainTypes[typ]; ok {
		return name, "", nil
	}
	switch typ {
	case "bool", "boolean":
		return "tinyint(1)", "", nil
	case "serial":
		return "bigint(20) unsigned", "", nil
	case "decimal", "dec", "numeric", "fixed":
		m, d := int64(10), int64(0)
		if n, ok := num(0); ok {
			m = n
		}
		if n, ok := num(1); ok {
			d = n
		}
		return sign(fmt.Sprintf("decimal(%d,%d)", m, d)), "", nil
	case "float", "float4", "float8", "double", "real":
		name := "double"
		if typ == "float" || typ == "float4" {
			name = "float"
		}
		if typ == "float" && len(args) == 1 {
			if p, _ := num(0); p > 24 {
				name = "double"
			}
			args = nil
		}
		return sign(withArgs(name)), "", nil
	case "bit":
		if len(args) == 0 {
			args = []string{"1"}
		}
		return withArgs("bit"), "", nil
	case "year":
		return "year(4)", "", nil
	case "time", "datetime", "timestamp":
		if n, _ := num(0); n > 0 {
			return fmt.Sprintf("%s(%d)", typ, n), "", nil
		}
		return typ, "", nil
	case "binary", "varbinary":
		if typ == "binary" && len(args) == 0 {
			args = []string{"1"}
		}
		return withArgs(typ), "", nil
	case "blob":
		if n, ok := num(0); ok {
			return strings.Replace(textType(n), "text", "blob", 1), "", nil
		}
		return "blob", "", nil
	case "json":
		return "json", "utf8mb4", nil
	case "char", "varchar":
		if charset == "binary" {
			return h.renderType(map[string]string{"char": "binary", "varchar": "varbinary"}[typ], args, false, false, "")
		}
		if typ == "char" && len(args) == 0 {
			args = []string{"1"}
		}
		if _, err := character(); err != nil {
			return "", "", err
		}
		return withArgs(typ), charset, nil
	case "tinytext", "text", "mediumtext", "longtext":
		if charset == "binary" {
			return strings.Replace(typ, "text", "blob", 1), "", nil
		}
		maxLen, err := character()
		if err != nil {
			return "", "", err
		}
		if n, ok := num(0); ok && typ == "text" {
			return textType(n * int64(maxLen)), charset, nil
		}
		return typ, charset, nil
	case "enum", "set":
		if _, err := character(); err != nil {
			return "", "", err
		}
		labels := make([]string, len(args))
		for i, a := range args {
			if a == "" || a[0] != '\'' && a[0] != '"' {
				return "", "", fmt.Errorf("%w: %s label %s", errNotFollowed, typ, a)
			}
			label := strings.TrimRight(unquoteString(a), " ")
			labels[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(label, `\`, `\\`), "'", "''") + "'"
		}
		return typ + "(" + strings.Join(labels, ",") + ")", charset, nil
	}
	return "", "", fmt.Errorf("%w: type %s", errNotFollowed, typ)
}
