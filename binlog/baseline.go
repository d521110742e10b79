package binlog

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/tributary-cdc/tributary"
)

// Schema is where the schema history starts for Run: the included tables'
// definitions as of the position reading starts from. Build it with
// Baseline (a new stream) or LoadSchema (a stream that holds events).
type Schema struct {
	tables map[tableRef]*tableSchema
	// include is what was included when the baseline was taken: with the
	// same tables included, a table the baseline lacks did not exist.
	include  []string
	baseline bool
}

// baselineDoc is the stored form of a baseline (docs/EVENTS.md, "Schema
// history").
type baselineDoc struct {
	File    string          `json:"file"`
	Offset  uint64          `json:"offset"`
	GTIDSet string          `json:"gtidset,omitempty"`
	Time    time.Time       `json:"time"`
	Include []string        `json:"include"`
	Tables  []baselineTable `json:"tables"`
}

// baselineTable is one table of a baseline.
type baselineTable struct {
	Database string `json:"database"`
	Table    string `json:"table"`
	tableDoc
}

// tableDoc is a table's definition as a schema_changed event's data and a
// baseline write it (docs/EVENTS.md): all null if it is not known, no
// columns if the table does not exist.
type tableDoc struct {
	Charset    *string      `json:"charset"`
	PrimaryKey []string     `json:"primarykey"`
	Columns    []ColumnInfo `json:"columns"`
}

// doc is the definition t (nil: not known) in its written form.
func (t *tableSchema) doc() tableDoc {
	switch {
	case t == nil:
		return tableDoc{}
	case t.gone:
		return tableDoc{PrimaryKey: []string{}, Columns: []ColumnInfo{}}
	}
	d := tableDoc{PrimaryKey: t.primaryKey, Columns: t.columns}
	if d.PrimaryKey == nil {
		d.PrimaryKey = []string{} // no primary key, which null would not say
	}
	if t.charset != "" {
		d.Charset = &t.charset
	}
	return d
}

func (d tableDoc) schema() *tableSchema {
	switch {
	case d.Columns == nil:
		return nil // not known
	case len(d.Columns) == 0:
		return &tableSchema{gone: true} // no table has no columns
	}
	t := &tableSchema{columns: d.Columns, primaryKey: d.PrimaryKey}
	if d.Charset != nil {
		t.charset = *d.Charset
	}
	if t.primaryKey == nil {
		t.primaryKey = []string{}
	}
	return t
}

// baselineAttempts bounds how often Baseline reads the definitions again
// because DDL changed included tables while it read them.
const baselineAttempts = 5

// Baseline reads the definitions of the included tables and the binlog
// head they are the definitions at, for a new stream: it returns where the
// stream starts, with its schema history, and the baseline to store beside
// the stream so that a later resume can rebuild that history (LoadSchema).
//
// Writes may go on meanwhile: the head read before the definitions is the
// start if no DDL statement naming an included table reached the binlog
// between it and the head read after them (SHOW BINLOG EVENTS); otherwise
// it tries again.
func (t *Tailer) Baseline(ctx context.Context) (Start, []byte, error) {
	conn, err := t.opts.Source.Connect(ctx)
	if err != nil {
		return Start{}, nil, err
	}
	defer conn.Close()
	srv, err := Describe(conn)
	if err != nil {
		return Start{}, nil, err
	}
	cat, err := newSQLCatalog(conn, srv)
	if err != nil {
		return Start{}, nil, err
	}
	for range baselineAttempts {
		before, err := Head(conn, srv)
		if err != nil {
			return Start{}, nil, err
		}
		read, err := cat.readTables(nil)
		if err != nil {
			return Start{}, nil, err
		}
		after, err := Head(conn, srv)
		if err != nil {
			return Start{}, nil, err
		}
		changed, err := ddlBetween(conn, before, after, t.opts.Include)
		if err != nil {
			return Start{}, nil, err
		}
		if changed != "" {
			t.log.Info("DDL ran while the table definitions were read; reading them again", "statement", changed)
			continue
		}
		s := &Schema{tables: map[tableRef]*tableSchema{}, include: slices.Clone(t.opts.Include), baseline: true}
		doc := baselineDoc{File: before.File, Offset: before.Offset, GTIDSet: before.GTIDSet, Time: time.Now().UTC(), Include: s.include, Tables: []baselineTable{}}
		refs := slices.SortedFunc(maps.Keys(read), func(a, b tableRef) int {
			return strings.Compare(a.db+"\x00"+a.name, b.db+"\x00"+b.name)
		})
		for _, ref := range refs {
			if !included(t.opts.Include, ref.db, ref.name) {
				continue
			}
			def := read[ref]
			s.tables[ref] = def
			doc.Tables = append(doc.Tables, baselineTable{Database: ref.db, Table: ref.name, tableDoc: def.doc()})
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return Start{}, nil, err
		}
		return Start{From: before, Schema: s}, b, nil
	}
	return Start{}, nil, fmt.Errorf("%w: DDL kept changing included tables while tributary read their definitions (%d attempts); start again when it has finished", errCatalog, baselineAttempts)
}

// ddlBetween returns the first DDL statement naming an included table
// between two binlog positions, or "" if there is none.
func ddlBetween(conn *client.Conn, from, to tributary.Position, include []string) (string, error) {
	if from.File == to.File && from.Offset == to.Offset {
		return "", nil
	}
	files, err := BinlogFiles(conn)
	if err != nil {
		return "", err
	}
	i := slices.Index(files, from.File)
	if i < 0 {
		return "", fmt.Errorf("%w: binlog %s vanished while the table definitions were read", errCatalog, from.File)
	}
	for _, file := range files[i:] {
		stmt := "SHOW BINLOG EVENTS IN '" + strings.ReplaceAll(file, "'", "''") + "'"
		if file == from.File {
			stmt += fmt.Sprintf(" FROM %d", from.Offset)
		}
		r, err := conn.Execute(stmt)
		if err != nil {
			return "", fmt.Errorf("%w: read binlog %s: %w", errCatalog, file, err)
		}
		for row := range r.RowNumber() {
			pos, _ := r.GetUint(row, 1)
			if file == to.File && pos >= to.Offset {
				return "", nil
			}
			typ, _ := r.GetString(row, 2)
			if typ != "Query" {
				continue
			}
			info, _ := r.GetString(row, 5)
			db, stmt := splitUse(info)
			for _, ref := range ddlTables(stmt, db) {
				if included(include, ref.db, ref.name) {
					return stmt, nil
				}
			}
		}
		if file == to.File {
			return "", nil
		}
	}
	return "", nil
}

// splitUse splits SHOW BINLOG EVENTS' "use `db`; statement" into its parts.
func splitUse(info string) (db, stmt string) {
	rest, ok := strings.CutPrefix(info, "use ")
	if !ok {
		return "", info
	}
	t := &ddlTokens{s: rest}
	name := t.next()
	if t.next() != ";" {
		return "", info
	}
	return unquoteIdent(name), strings.TrimSpace(rest[t.pos:])
}

// LoadSchema rebuilds the schema history as of a stream's last event from
// the baseline stored beside it (nil if there is none) and the last
// schema_changed event of each table (their bodies, in any order). include
// is what is included now.
func LoadSchema(baseline []byte, events [][]byte, include []string) (*Schema, error) {
	s, _, err := loadSchema(baseline, events, include)
	return s, err
}

// loadSchema is LoadSchema, also returning the baseline read.
func loadSchema(baseline []byte, events [][]byte, include []string) (*Schema, baselineDoc, error) {
	s := &Schema{tables: map[tableRef]*tableSchema{}}
	var doc baselineDoc
	if baseline != nil {
		if err := json.Unmarshal(baseline, &doc); err != nil {
			return nil, doc, fmt.Errorf("%w: the stream's baseline is not JSON: %w", tributary.ErrPreflight, err)
		}
		s.include, s.baseline = doc.Include, true
		for _, d := range doc.Tables {
			s.tables[tableRef{d.Database, d.Table}] = d.schema()
		}
	}
	for _, body := range events {
		var ev struct {
			Subject string
			Data    tableDoc
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			return nil, doc, fmt.Errorf("%w: a schema_changed event in the stream is not JSON: %w", tributary.ErrPreflight, err)
		}
		// The CloudEvents subject: <db>.<table>.~schema, escaped.
		tokens := strings.Split(ev.Subject, ".")
		if len(tokens) != 3 || tokens[2] != schemaSubjectToken {
			return nil, doc, fmt.Errorf("%w: a schema_changed event in the stream has the subject %q, not <db>.<table>.%s: was it written by tributary?", tributary.ErrPreflight, ev.Subject, schemaSubjectToken)
		}
		db, ok1 := tributary.UnescapeToken(tokens[0])
		table, ok2 := tributary.UnescapeToken(tokens[1])
		if !ok1 || !ok2 {
			return nil, doc, fmt.Errorf("%w: a schema_changed event in the stream has the subject %q, which is not escaped as tributary escapes: was it written by tributary?", tributary.ErrPreflight, ev.Subject)
		}
		s.tables[tableRef{db, table}] = ev.Data.schema()
	}
	if !slices.Equal(s.include, include) {
		s.baseline = false // tables newly included are not in it
	}
	return s, doc, nil
}

// BaselineStart is where a stream that holds no event yet continues: the
// position its baseline was taken at, with the definitions read there.
func BaselineStart(baseline []byte, include []string) (Start, error) {
	s, doc, err := loadSchema(baseline, nil, include)
	if err != nil {
		return Start{}, err
	}
	return Start{From: tributary.Position{File: doc.File, Offset: doc.Offset, GTIDSet: doc.GTIDSet}, Schema: s}, nil
}

// SchemaSubjects is the subject filter of every table's schema_changed
// events under a prefix: the last of each is where LoadSchema continues.
func SchemaSubjects(prefix string) string {
	return prefix + ".*.*." + schemaSubjectToken
}

// newSchemaHistory starts a history from s (nil: knowing nothing).
func newSchemaHistory(cat tableCatalog, s *Schema, include []string) (*schemaHistory, error) {
	dbs, server, tsNotNull, err := cat.environment()
	if err != nil {
		return nil, err
	}
	h := &schemaHistory{
		tables:           map[tableRef]*tableSchema{},
		included:         func(db, table string) bool { return included(include, db, table) },
		databases:        dbs,
		serverCharset:    server,
		timestampNotNull: tsNotNull,
		cs:               cat,
	}
	if s != nil {
		maps.Copy(h.tables, s.tables) // the definitions are never changed in place
		h.complete = s.baseline && slices.Equal(s.include, include)
	}
	return h, nil
}

// withHistory answers which columns are JSON, UUID, INET4 or INET6 from the
// schema history where it knows the table, and from the source otherwise.
type withHistory struct {
	catalog
	h *schemaHistory
}

func (w withHistory) specialColumns(schema, table string) (map[string]kind, error) {
	if kinds, ok := w.h.special(tableRef{schema, table}); ok {
		return kinds, nil
	}
	return w.catalog.specialColumns(schema, table)
}

func (t *tableSchema) equal(o *tableSchema) bool {
	if t == nil || o == nil {
		return t == o
	}
	if t.gone || o.gone {
		return t.gone == o.gone
	}
	return t.charset == o.charset && slices.Equal(t.columns, o.columns) && slices.Equal(t.primaryKey, o.primaryKey)
}

// lossyOf reports whether t, as the source describes it, differs from
// followed only where t shows '?' for a character outside the Basic
// Multilingual Plane. MariaDB keeps column types in utf8mb3, which has no
// such characters, so information_schema (and SHOW CREATE TABLE) shows an
// ENUM or SET label such as '😀' as '?'; the history, which read the
// statement, has it as it is.
func (t *tableSchema) lossyOf(followed *tableSchema) bool {
	if t == nil || followed == nil || t.gone || followed.gone || len(t.columns) != len(followed.columns) ||
		t.charset != followed.charset || !slices.Equal(t.primaryKey, followed.primaryKey) {
		return false
	}
	lossy := false
	for i, c := range t.columns {
		f := followed.columns[i]
		if c.Name != f.Name || c.Nullable != f.Nullable || c.Charset != f.Charset {
			return false
		}
		if c.Type == f.Type {
			continue
		}
		if !questionMarksFor(c.Type, f.Type) {
			return false
		}
		lossy = true
	}
	return lossy
}

// questionMarksFor reports whether shown is full with each character
// outside the Basic Multilingual Plane replaced by '?'.
func questionMarksFor(shown, full string) bool {
	s, f := []rune(shown), []rune(full)
	if len(s) != len(f) {
		return false
	}
	for i := range s {
		if s[i] != f[i] && !(s[i] == '?' && f[i] > 0xFFFF) {
			return false
		}
	}
	return true
}

// String is the definition as a schema_changed event writes it.
func (t *tableSchema) String() string {
	b, _ := json.Marshal(t.doc())
	return string(b)
}
