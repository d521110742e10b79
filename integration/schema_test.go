package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/google/go-cmp/cmp"
)

// describeTable is what MariaDB itself says of a table, in the form of a
// schema_changed event's data (docs/EVENTS.md): the oracle the schema
// history is compared with. A table that does not exist has no columns.
func describeTable(t testing.TB, conn *client.Conn, db, table string) string {
	t.Helper()
	q := func(query string, args ...any) [][]*string {
		r, err := conn.Execute(query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		var out [][]*string
		for i := range r.RowNumber() {
			var row []*string
			for j := range r.ColumnNumber() {
				if v, _ := r.GetValue(i, j); v == nil {
					row = append(row, nil)
					continue
				}
				s, _ := r.GetString(i, j)
				row = append(row, &s)
			}
			out = append(out, row)
		}
		return out
	}
	type column struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Nullable bool   `json:"nullable"`
		Charset  string `json:"charset,omitempty"`
	}
	d := struct {
		Charset    *string  `json:"charset"`
		PrimaryKey []string `json:"primarykey"`
		Columns    []column `json:"columns"`
	}{PrimaryKey: []string{}, Columns: []column{}}
	tables := q(`SELECT c.CHARACTER_SET_NAME FROM information_schema.TABLES t
		JOIN information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION
		WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?`, db, table)
	if len(tables) == 0 {
		b, _ := json.Marshal(d)
		return string(b)
	}
	d.Charset = tables[0][0]
	isJSON := map[string]bool{}
	for _, r := range q(`SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, db, table) {
		isJSON[*r[0]] = *r[1] == "json_valid(`"+*r[0]+"`)"
	}
	for _, r := range q(`SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, db, table) {
		c := column{Name: *r[0], Type: *r[1], Nullable: *r[2] == "YES"}
		if r[3] != nil {
			c.Charset = *r[3]
		}
		if isJSON[c.Name] {
			c.Type = "json"
		}
		d.Columns = append(d.Columns, c)
	}
	for _, r := range q(`SELECT COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, db, table) {
		d.PrimaryKey = append(d.PrimaryKey, *r[0])
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// execDDL runs a statement as root and returns what the server says, just
// after it, of each table it names (db.table): the definitions its
// schema_changed events must carry, compacted.
func execDDL(t testing.TB, conn *client.Conn, stmt string, tables ...string) []string {
	t.Helper()
	if _, err := conn.Execute(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	var defs []string
	for _, qualified := range tables {
		schema, table, _ := strings.Cut(qualified, ".")
		defs = append(defs, compact(t, []byte(describeTable(t, conn, schema, table))))
	}
	return defs
}

// ddlStep is a statement and the tables it names, in the order their
// schema_changed events come.
type ddlStep struct {
	stmt   string
	tables []string // db.table
	// unfollowed: the history is not to follow it, so its events must say
	// null, never a guess.
	unfollowed bool
}

// runDDL runs steps as root, and returns "db.table definition" for each
// schema_changed event they should give.
func runDDL(t *testing.T, db *mariaDB, steps []ddlStep) []string {
	t.Helper()
	conn := db.root()
	var want []string
	for _, s := range steps {
		for i, def := range execDDL(t, conn, s.stmt, s.tables...) {
			if s.unfollowed {
				def = `{"charset":null,"columns":null,"primarykey":null}`
			}
			want = append(want, s.tables[i]+" "+def)
		}
	}
	return want
}

// schemaEvents returns the stream's schema_changed events as "db.table
// data", data without its statement and database, and the after images of
// its row events, by table.
func schemaEvents(t *testing.T, lines [][]byte) (ddl []string, rows map[string][]string) {
	t.Helper()
	rows = map[string][]string{}
	for _, l := range lines {
		var e struct {
			Type string
			Data map[string]json.RawMessage
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		table := e.Type[:strings.LastIndexByte(e.Type, '.')]
		if strings.HasSuffix(e.Type, ".schema_changed") {
			delete(e.Data, "statement")
			delete(e.Data, "database")
			b, err := json.Marshal(e.Data)
			if err != nil {
				t.Fatal(err)
			}
			ddl = append(ddl, table+" "+compact(t, b))
			continue
		}
		rows[table] = append(rows[table], compact(t, e.Data["after"]))
	}
	return ddl, rows
}

// TestSchemaHistory: DDL run while tributary is stopped is followed by the
// schema history, so that when tributary catches up, each schema_changed
// event carries exactly the definition the server had just after its
// statement (compared with information_schema read at that moment), and
// rows written between the statements are decoded with the definition in
// force then: a LONGTEXT column turned JSON, or a CHAR(36) turned UUID,
// changes how rows are written only from the statement on.
func TestSchemaHistory(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec(
		"CREATE DATABASE h",
		"CREATE DATABASE h2 CHARACTER SET latin1",
		"CREATE TABLE h.a (id INT PRIMARY KEY, n INT, u CHAR(36) CHARACTER SET ascii, j LONGTEXT, x VARCHAR(10))",
		"CREATE TABLE h.v (id INT PRIMARY KEY)",
	)
	args := []string{"--source", db.sourceURL(), "--nats", ns.url(), "--name", "hist", "--server-id", "4747", "--include", "h.*,h2.*"}
	p := startTributary(t, append([]string{"start"}, args...)...)
	p.waitStreaming()
	if code := p.stop(); code != 0 {
		t.Fatalf("start exited %d after SIGTERM, want 0\n%s", code, p.stderr)
	}

	const uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	db.exec("INSERT INTO h.a VALUES (1, 1, '" + uuid + "', '{\"a\": 1}', 'x')")
	steps := []ddlStep{
		{"ALTER TABLE h.a ADD COLUMN c1 VARCHAR(20) NOT NULL DEFAULT 'x,y' COMMENT 'a, (tricky) comment' AFTER id", []string{"h.a"}, false},
		{"ALTER TABLE h.a ADD (c2 TINYINT UNSIGNED ZEROFILL, c3 DECIMAL(12) UNSIGNED), ADD INDEX ix (c2), ALGORITHM=COPY", []string{"h.a"}, false},
		{"ALTER TABLE h.a MODIFY COLUMN u UUID, MODIFY j JSON", []string{"h.a"}, false},
		{"INSERT INTO h.a (id, c1, n, u, j) VALUES (2, 'b', 2, '" + uuid + "', '{\"a\": 2}')", nil, false},
		{"ALTER TABLE h.a CHANGE COLUMN n nn BIGINT(15) NOT NULL FIRST", []string{"h.a"}, false},
		{"ALTER TABLE h.a ADD COLUMN ip INET6 AFTER c1, ADD COLUMN ip4 INET4, ADD COLUMN js LONGTEXT CHECK (json_valid(js))", []string{"h.a"}, false},
		{"ALTER TABLE h.a DROP COLUMN c3, DROP COLUMN IF EXISTS nope, ADD COLUMN IF NOT EXISTS c1 INT", []string{"h.a"}, false},
		{"ALTER TABLE h.a MODIFY id BIGINT UNSIGNED AUTO_INCREMENT", []string{"h.a"}, false},
		{"ALTER TABLE h.a DEFAULT CHARSET=latin1, ADD COLUMN l1 TEXT, ADD COLUMN l2 ENUM('x ','y''z') NOT NULL", []string{"h.a"}, false},
		{"ALTER TABLE h.a CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", []string{"h.a"}, false},
		{"INSERT INTO h.a (nn, id, c1, u, j, js, l2) VALUES (3, 3, 'c', '" + uuid + "', '[3]', '{}', 'x')", nil, false},
		{"CREATE TABLE h.b (k1 INT, k2 VARCHAR(10), v DOUBLE PRECISION, f FLOAT(30), s SERIAL, t TIMESTAMP(3), bl BLOB(300), " +
			"tx TEXT(300), nc NATIONAL CHAR(3), bi CHAR(5) BINARY, vb VARCHAR(5) CHARACTER SET binary, st SET('a','b') DEFAULT '', " +
			"g POINT, bt BIT, yr YEAR, r REAL(5,2), d NUMERIC, CONSTRAINT pk PRIMARY KEY (k1, k2), UNIQUE KEY (v), CHECK (k1 > 0)) " +
			"ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT='b, (c)'", []string{"h.b"}, false},
		{"CREATE TABLE h2.c (id INT, name VARCHAR(5), note TINYTEXT, PRIMARY KEY (id))", []string{"h2.c"}, false},
		{"CREATE TABLE h.d LIKE h.b", []string{"h.d"}, false},
		{"ALTER TABLE h.d DROP PRIMARY KEY, ADD PRIMARY KEY (s)", []string{"h.d"}, false},
		{"ALTER TABLE h.d RENAME COLUMN k2 TO key2, RENAME TO h.e", []string{"h.d", "h.e"}, false},
		{"RENAME TABLE h.e TO h.f, h.b TO h.e", []string{"h.e", "h.f", "h.b", "h.e"}, false},
		{"ALTER TABLE h.f ADD COLUMN gen INT AS (k1 * 2) VIRTUAL, ADD COLUMN inv INT INVISIBLE, MODIFY k1 INT NULL", []string{"h.f"}, false},
		{"CREATE TABLE h.g (id INT NOT NULL, x LONGTEXT CHECK (json_valid(x)), y LONGTEXT, CONSTRAINT y_chk CHECK (json_valid(y)))", []string{"h.g"}, false},
		// Written to the binlog as CREATE TABLE, then its rows, then XID.
		{"CREATE TABLE h.s AS SELECT 1 AS one, 'x' AS two", []string{"h.s"}, false},
		{"DROP TABLE h.g, h.f", []string{"h.g", "h.f"}, false},
		{"CREATE OR REPLACE TABLE h.e (id INT PRIMARY KEY, t TIMESTAMP)", []string{"h.e"}, false},
		{"TRUNCATE h.e", []string{"h.e"}, false},
		{"CREATE INDEX iv ON h.a (c1)", []string{"h.a"}, false},
		// Not followed (system versioning adds hidden columns): unknown,
		// never a guess.
		{"ALTER TABLE h.v ADD SYSTEM VERSIONING", []string{"h.v"}, true},
	}
	want := runDDL(t, db, steps)
	// A write after the last DDL, so that none is the last thing in the
	// binlog when tributary reads it: every definition comes from the
	// history, none from the source.
	db.exec("INSERT INTO h.e VALUES (1, NULL)")

	p = startTributary(t, append([]string{"resume"}, args...)...)
	nc := ns.connect()
	waitForEvents(t, p, nc, "TRIBUTARY_HIST", len(want)+5) // and 5 rows: 3 of h.a, 1 of h.s, 1 of h.e
	if code := p.stop(); code != 0 {
		t.Fatalf("resume exited %d after SIGTERM, want 0\n%s", code, p.stderr)
	}
	if strings.Contains(p.stderr.String(), "followed a DDL statement differently") {
		t.Errorf("the schema history disagreed with the source:\n%s", p.stderr)
	}
	have, rows := schemaEvents(t, tailAll(t, ns.url(), "TRIBUTARY_HIST"))
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("schema_changed events (-server +stream):\n%s", diff)
	}
	wantRows := map[string][]string{
		"h.a": {
			`{"id":1,"n":1,"u":"` + uuid + `","j":"{\"a\": 1}","x":"x"}`,
			`{"id":2,"c1":"b","n":2,"u":"` + uuid + `","j":{"a":2},"x":null,"c2":null,"c3":null}`,
			`{"nn":3,"id":3,"c1":"c","ip":null,"u":"` + uuid + `","j":[3],"x":null,"c2":null,"ip4":null,"js":{},"l1":null,"l2":"x"}`,
		},
		"h.s": {`{"one":1,"two":"x"}`},
		"h.e": {`{"id":1,"t":null}`},
	}
	for _, images := range wantRows {
		for i := range images {
			images[i] = compact(t, []byte(images[i]))
		}
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
