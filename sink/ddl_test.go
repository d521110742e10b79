package sink

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tableOf is a table of the named int columns.
func tableOf(names ...string) Table {
	t := Table{Name: TableName{"shop", "t"}, Key: []string{"id"}}
	for _, n := range names {
		t.Columns = append(t.Columns, Column{Name: n, Type: "int(11)", Nullable: true})
	}
	return t
}

func TestRenamedColumns(t *testing.T) {
	tests := []struct {
		name     string
		stmt     string
		from, to Table
		want     map[string]string
	}{
		{
			name: "RENAME COLUMN",
			stmt: "ALTER TABLE t RENAME COLUMN a TO b",
			from: tableOf("id", "a"), to: tableOf("id", "b"),
			want: map[string]string{"b": "a"},
		},
		{
			name: "CHANGE COLUMN",
			stmt: "ALTER TABLE t CHANGE COLUMN a b INT",
			from: tableOf("id", "a"), to: tableOf("id", "b"),
			want: map[string]string{"b": "a"},
		},
		{
			name: "CHANGE",
			stmt: "ALTER TABLE t CHANGE a b INT",
			from: tableOf("id", "a"), to: tableOf("id", "b"),
			want: map[string]string{"b": "a"},
		},
		{
			name: "CHANGE to the same name",
			stmt: "ALTER TABLE t CHANGE a a BIGINT",
			from: tableOf("id", "a"), to: tableOf("id", "a"),
			want: map[string]string{},
		},
		{
			name: "backquoted names with spaces and backquotes",
			stmt: "ALTER TABLE `t` CHANGE COLUMN `my col` `new ``col``` INT NOT NULL",
			from: tableOf("id", "my col"), to: tableOf("id", "new `col`"),
			want: map[string]string{"new `col`": "my col"},
		},
		{
			name: "backquoted keywords as names",
			stmt: "ALTER TABLE t RENAME COLUMN `column` TO `to`",
			from: tableOf("id", "column"), to: tableOf("id", "to"),
			want: map[string]string{"to": "column"},
		},
		{
			name: "several renames",
			stmt: "ALTER TABLE shop.t RENAME COLUMN a TO b, CHANGE c d INT, ADD COLUMN e INT, CHANGE COLUMN f g TEXT AFTER id",
			from: tableOf("id", "a", "c", "f"), to: tableOf("id", "g", "b", "d", "e"),
			want: map[string]string{"b": "a", "d": "c", "g": "f"},
		},
		{
			name: "swap",
			stmt: "ALTER TABLE t RENAME COLUMN a TO b, RENAME COLUMN b TO a",
			from: tableOf("id", "a", "b"), to: tableOf("id", "b", "a"),
			want: map[string]string{"b": "a", "a": "b"},
		},
		{
			name: "RENAME COLUMN IF EXISTS",
			stmt: "ALTER TABLE t RENAME COLUMN IF EXISTS a TO b",
			from: tableOf("id", "a"), to: tableOf("id", "b"),
			want: map[string]string{"b": "a"},
		},
		{
			name: "CHANGE COLUMN IF EXISTS",
			stmt: "ALTER TABLE t CHANGE COLUMN IF EXISTS a b INT",
			from: tableOf("id", "a"), to: tableOf("id", "b"),
			want: map[string]string{"b": "a"},
		},
		{
			name: "CHANGE IF EXISTS",
			stmt: "ALTER TABLE t CHANGE IF EXISTS a b INT",
			from: tableOf("id", "a"), to: tableOf("id", "b"),
			want: map[string]string{"b": "a"},
		},
		{
			name: "IF EXISTS of a column the table does not have",
			stmt: "ALTER TABLE t RENAME COLUMN IF EXISTS x TO y, CHANGE COLUMN IF EXISTS z w INT",
			from: tableOf("id", "a"), to: tableOf("id", "a"),
			want: map[string]string{},
		},
		{
			name: "keywords and names in another case",
			stmt: "alter table t rename column A to B, Change Column C D int",
			from: tableOf("id", "a", "c"), to: tableOf("id", "b", "d"),
			want: map[string]string{"b": "a", "d": "c"},
		},
		{
			name: "RENAME COLUMN in a COMMENT",
			stmt: "ALTER TABLE t MODIFY x INT COMMENT 'RENAME COLUMN a TO b'",
			from: tableOf("id", "a", "b", "x"), to: tableOf("id", "a", "b", "x"),
			want: map[string]string{},
		},
		{
			name: "CHANGE in a double-quoted COMMENT with an escaped quote",
			stmt: `ALTER TABLE t MODIFY x INT COMMENT "it's \" CHANGE a b INT"`,
			from: tableOf("id", "a", "b", "x"), to: tableOf("id", "a", "b", "x"),
			want: map[string]string{},
		},
		{
			name: "RENAME COLUMN in comments",
			stmt: "ALTER TABLE t /* RENAME COLUMN a TO b */ ADD COLUMN c INT -- CHANGE a b INT\n, ADD d INT # RENAME COLUMN a TO b",
			from: tableOf("id", "a"), to: tableOf("id", "a", "c", "d"),
			want: map[string]string{},
		},
		{
			name: "RENAME of a table or an index",
			stmt: "ALTER TABLE t RENAME INDEX a TO b, RENAME TO u",
			from: tableOf("id", "a"), to: tableOf("id", "b"),
			want: map[string]string{},
		},
		{
			name: "no rename",
			stmt: "ALTER TABLE t ADD COLUMN b INT, DROP COLUMN a",
			from: tableOf("id", "a"), to: tableOf("id", "b"),
			want: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renamedColumns(tc.stmt, tc.from, tc.to)
			if err != nil {
				t.Fatalf("renamedColumns(%q) = %v, want no error", tc.stmt, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("renamedColumns(%q) = %v, want %v; diff (-want +got):\n%s", tc.stmt, got, tc.want, diff)
			}
		})
	}
}

func TestRenamedColumnsErrors(t *testing.T) {
	tests := []struct {
		name     string
		stmt     string
		from, to Table
	}{
		{
			name: "RENAME COLUMN to a name the definition lacks",
			stmt: "ALTER TABLE t RENAME COLUMN a TO b",
			from: tableOf("id", "a"), to: tableOf("id", "c"),
		},
		{
			name: "CHANGE to a name the definition lacks",
			stmt: "ALTER TABLE t CHANGE a b INT",
			from: tableOf("id", "a"), to: tableOf("id", "a"),
		},
		{
			name: "second rename of several",
			stmt: "ALTER TABLE t RENAME COLUMN a TO b, RENAME COLUMN c TO d",
			from: tableOf("id", "a", "c"), to: tableOf("id", "b", "c"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renamedColumns(tc.stmt, tc.from, tc.to)
			if err == nil {
				t.Errorf("renamedColumns(%q) = %v, want an error", tc.stmt, got)
			}
		})
	}
}

func TestIsTruncate(t *testing.T) {
	tests := []struct {
		name string
		stmt string
		want bool
	}{
		{"TRUNCATE TABLE", "TRUNCATE TABLE shop.orders", true},
		{"TRUNCATE", "TRUNCATE orders", true},
		{"lower case", "truncate table `orders`", true},
		{"after a comment", "/* tributary */ TRUNCATE TABLE orders", true},
		{"after a line comment", "-- clean up\nTRUNCATE orders", true},
		{"leading space", "  \n\tTRUNCATE orders", true},
		{"ALTER", "ALTER TABLE orders ADD COLUMN note TEXT", false},
		{"DROP", "DROP TABLE orders", false},
		{"TRUNCATE later in the statement", "ALTER TABLE truncate_log COMMENT 'TRUNCATE'", false},
		{"table named truncate", "DROP TABLE `TRUNCATE`", false},
		{"backquoted word", "`TRUNCATE` orders", false},
		{"prefix of a word", "TRUNCATED orders", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isTruncate(tc.stmt); got != tc.want {
				t.Errorf("isTruncate(%q) = %v, want %v", tc.stmt, got, tc.want)
			}
		})
	}
}

func TestIsCreateOrReplace(t *testing.T) {
	tests := []struct {
		name string
		stmt string
		want bool
	}{
		{"CREATE OR REPLACE TABLE", "CREATE OR REPLACE TABLE shop.orders (id INT PRIMARY KEY)", true},
		{"lower case after a comment", "/* x */ create or replace table `orders` like `b`", true},
		{"CREATE TABLE", "CREATE TABLE shop.orders (id INT PRIMARY KEY)", false},
		{"CREATE TABLE IF NOT EXISTS", "CREATE TABLE IF NOT EXISTS shop.orders (id INT PRIMARY KEY)", false},
		{"REPLACE in a comment", "CREATE /* OR REPLACE */ TABLE t (id INT)", false},
		{"ALTER", "ALTER TABLE t COMMENT 'CREATE OR REPLACE'", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isCreateOrReplace(tc.stmt); got != tc.want {
				t.Errorf("isCreateOrReplace(%q) = %v, want %v", tc.stmt, got, tc.want)
			}
		})
	}
}

func TestIsRename(t *testing.T) {
	tests := []struct {
		name string
		stmt string
		want bool
	}{
		{"RENAME TABLE", "RENAME TABLE shop.orders TO shop.orders2", true},
		{"RENAME TABLES", "rename tables a to b, c to d", true},
		{"ALTER TABLE RENAME TO", "ALTER TABLE orders RENAME TO orders2", true},
		{"ALTER TABLE RENAME AS", "ALTER TABLE orders RENAME AS orders2", true},
		{"ALTER TABLE RENAME with a column change", "ALTER TABLE orders ADD COLUMN note TEXT, RENAME TO orders2", true},
		{"after a comment", "/* x */ RENAME TABLE a TO b", true},
		{"RENAME COLUMN", "ALTER TABLE orders RENAME COLUMN v TO memo", false},
		{"RENAME INDEX", "ALTER TABLE orders RENAME INDEX i TO j", false},
		{"RENAME KEY", "ALTER TABLE orders RENAME KEY i TO j", false},
		{"RENAME CONSTRAINT", "ALTER TABLE orders RENAME CONSTRAINT c TO d", false},
		{"RENAME at the end", "ALTER TABLE orders RENAME", false},
		{"RENAME in a string", "ALTER TABLE orders COMMENT 'RENAME TO x'", false},
		{"backquoted rename", "ALTER TABLE `RENAME` ADD COLUMN x INT", false},
		{"CREATE", "CREATE TABLE rename_log (id INT)", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isRename(tc.stmt); got != tc.want {
				t.Errorf("isRename(%q) = %v, want %v", tc.stmt, got, tc.want)
			}
		})
	}
}
