package binlog

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// What the history cannot follow becomes unknown, never a guess, and stays
// unknown until a definition is read from the source; what it can follow
// survives a round trip through the stored events (LoadSchema).
func TestSchemaHistoryUnknownAndReload(t *testing.T) {
	h, err := newSchemaHistory(fakeCatalog{}, &Schema{baseline: true, include: []string{"s.*"}}, []string{"s.*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"CREATE DATABASE s",
		"CREATE TABLE s.a (id INT PRIMARY KEY, v VARCHAR(3))",
		"CREATE TABLE s.b (id INT) WITH SYSTEM VERSIONING",       // hidden columns: not followed
		"ALTER TABLE s.b ADD COLUMN w INT",                       // unknown stays unknown
		"CREATE TABLE s.c (id INT, g MYSTERYTYPE)",               // a type it does not know
		"CREATE TABLE other.x (id INT)",                          // not included: not kept
		"ALTER TABLE s.a ADD COLUMN w INT FIRST, RENAME TO s.a2", // followed
		"CREATE TABLE IF NOT EXISTS s.a2 (other INT)",            // exists: unchanged
		"ALTER TABLE s.missing ADD COLUMN w INT",                 // absent from a complete history
	} {
		h.apply(stmt, "s")
	}
	known := func(name string) bool { return h.lookup(tableRef{"s", name}) != nil }
	for name, want := range map[string]bool{"a": true, "a2": true, "b": false, "c": false, "missing": false, "never": true} {
		if got := known(name); got != want {
			t.Errorf("table s.%s known: %v, want %v", name, got, want)
		}
	}
	if a := h.lookup(tableRef{"s", "a"}); a == nil || !a.gone {
		t.Errorf("s.a after its rename: %v, want gone", a)
	}
	want := `{"charset":"utf8mb4","primarykey":["id"],"columns":[{"name":"w","type":"int(11)","nullable":true},{"name":"id","type":"int(11)","nullable":false},{"name":"v","type":"varchar(3)","nullable":true,"charset":"utf8mb4"}]}`
	if got := h.lookup(tableRef{"s", "a2"}).String(); got != want {
		t.Errorf("s.a2:\n got %s\nwant %s", got, want)
	}

	// The events a resume reads back: s.a2's definition, s.b unknown.
	o := &Options{Name: "src", Prefix: "cdc"}
	tx := &transaction{id: "0-1-9"}
	var bodies [][]byte
	for _, name := range []string{"a2", "b"} {
		ref := tableRef{"s", name}
		ev, err := buildSchemaEvent(o, ref, tx, 0, "ALTER …", "s", h.lookup(ref))
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, append(ev.Body, '}')) // finish adds the closing member
	}
	baseline := []byte(`{"file":"binlog.000001","offset":4,"include":["s.*"],"tables":[{"database":"s","table":"a","charset":"utf8mb4","primarykey":[],"columns":[{"name":"id","type":"int(11)","nullable":true}]}]}`)
	s, err := LoadSchema(baseline, bodies, []string{"s.*"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := newSchemaHistory(fakeCatalog{}, s, []string{"s.*"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.complete {
		t.Errorf("a history from a baseline with the same include is not complete")
	}
	if diff := cmp.Diff(want, r.lookup(tableRef{"s", "a2"}).String()); diff != "" {
		t.Errorf("s.a2 reloaded (-want +got):\n%s", diff)
	}
	if r.lookup(tableRef{"s", "b"}) != nil {
		t.Errorf("s.b reloaded as known, want unknown")
	}
	if got := r.lookup(tableRef{"s", "a"}).String(); got != `{"charset":"utf8mb4","primarykey":[],"columns":[{"name":"id","type":"int(11)","nullable":true}]}` {
		t.Errorf("s.a from the baseline: %s", got)
	}
	// Another include: the baseline no longer says which tables exist.
	if s, err := LoadSchema(baseline, nil, []string{"t.*"}); err != nil || s.baseline {
		t.Errorf("LoadSchema with another include: baseline %v (err %v), want false", s != nil && s.baseline, err)
	}
	if s, _ := LoadSchema(nil, nil, []string{"t.*"}); s.baseline {
		t.Errorf("a history without a baseline is complete")
	}
}

// MODIFY, CHANGE and RENAME COLUMN keep the column's place unless told,
// carry the primary key to a new name, and make the table unknown when the
// column is missing (unless IF EXISTS).
func TestSchemaHistoryRedefine(t *testing.T) {
	const (
		id  = `{"name":"id","type":"int(11)","nullable":false}`
		v   = `{"name":"v","type":"varchar(3)","nullable":true,"charset":"utf8mb4"}`
		w   = `{"name":"w","type":"int(11)","nullable":true}`
		doc = `{"charset":"utf8mb4","primarykey":[%s],"columns":[%s]}`
	)
	for _, tc := range []struct {
		stmt string
		want string // "" for unknown
	}{
		{"ALTER TABLE s.t MODIFY v VARCHAR(5) NOT NULL FIRST",
			fmt.Sprintf(doc, `"id"`, `{"name":"v","type":"varchar(5)","nullable":false,"charset":"utf8mb4"},`+id+","+w)},
		{"ALTER TABLE s.t MODIFY COLUMN w BIGINT UNSIGNED",
			fmt.Sprintf(doc, `"id"`, id+","+v+`,{"name":"w","type":"bigint(20) unsigned","nullable":true}`)},
		{"ALTER TABLE s.t CHANGE COLUMN v vv TEXT AFTER w",
			fmt.Sprintf(doc, `"id"`, id+","+w+`,{"name":"vv","type":"text","nullable":true,"charset":"utf8mb4"}`)},
		{"ALTER TABLE s.t CHANGE id id2 BIGINT NULL",
			fmt.Sprintf(doc, `"id2"`, `{"name":"id2","type":"bigint(20)","nullable":false},`+v+","+w)},
		{"ALTER TABLE s.t RENAME COLUMN w TO x",
			fmt.Sprintf(doc, `"id"`, id+","+v+`,{"name":"x","type":"int(11)","nullable":true}`)},
		{"ALTER TABLE s.t MODIFY IF EXISTS nope INT, CHANGE COLUMN IF EXISTS nope2 n INT",
			fmt.Sprintf(doc, `"id"`, id+","+v+","+w)},
		{"ALTER TABLE s.t MODIFY nope INT", ""},
		{"ALTER TABLE s.t CHANGE nope n INT", ""},
	} {
		h, err := newSchemaHistory(fakeCatalog{}, &Schema{baseline: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		h.apply("CREATE DATABASE s", "")
		h.apply("CREATE TABLE s.t (id INT PRIMARY KEY, v VARCHAR(3), w INT)", "s")
		h.apply(tc.stmt, "s")
		got := ""
		if def := h.lookup(tableRef{"s", "t"}); def != nil {
			got = def.String()
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.stmt, got, tc.want)
		}
	}
}

// TestLossyOf: MariaDB shows '?' for a label character outside the BMP;
// such a definition from the source gives way to the history's.
func TestLossyOf(t *testing.T) {
	def := func(typ string) *tableSchema {
		return &tableSchema{charset: "utf8mb4", primaryKey: []string{"id"},
			columns: []ColumnInfo{{Name: "id", Type: "int(11)"}, {Name: "en", Type: typ, Nullable: true, Charset: "utf8mb4"}}}
	}
	tests := []struct {
		name           string
		source, follow *tableSchema
		want           bool
	}{
		{"emoji shown as ?", def("enum('a','?','é')"), def("enum('a','😀','é')"), true},
		{"two emoji in one label", def("set('??')"), def("set('😀🎉')"), true},
		{"equal", def("enum('a')"), def("enum('a')"), false},
		{"a real ? in the history", def("enum('?')"), def("enum('?')"), false},
		{"BMP character shown as ?", def("enum('?')"), def("enum('é')"), false},
		{"other difference", def("enum('a','?')"), def("enum('b','😀')"), false},
		{"no history", def("enum('?')"), nil, false},
	}
	for _, tc := range tests {
		if got := tc.source.lossyOf(tc.follow); got != tc.want {
			t.Errorf("%s: lossyOf = %v, want %v", tc.name, got, tc.want)
		}
	}
}
