package integration

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSchemaChanges: rows are decoded with the table definition in force
// when they were written, whether tributary reads them at once or, after a
// stop, only once later DDL has changed the table again; and the schema
// version changes exactly when the column list or types do.
func TestSchemaChanges(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec("CREATE DATABASE s", "CREATE TABLE s.t (id INT PRIMARY KEY, a INT, b VARCHAR(10))")
	args := []string{"--source", db.sourceURL(), "--nats", ns.url(), "--name", "ddl", "--server-id", "4646", "--include", "s.*"}
	p := startTributary(t, append([]string{"start"}, args...)...)
	p.waitStreaming()

	// While tributary runs.
	db.exec(
		"INSERT INTO s.t VALUES (1, 10, 'x')",
		"ALTER TABLE s.t ADD COLUMN c DECIMAL(5,2) DEFAULT 1.50",
		"INSERT INTO s.t VALUES (2, 20, 'y', 2.25)",
		"ALTER TABLE s.t DROP COLUMN a",
		"UPDATE s.t SET b = 'z' WHERE id = 2")
	nc := ns.connect()
	waitForEvents(t, p, nc, "TRIBUTARY_DDL", 3)
	if code := p.stop(); code != 0 {
		t.Fatalf("start exited %d after SIGTERM, want 0\n%s", code, p.stderr)
	}

	// While it is stopped: every row below is read only after all of this
	// DDL has run.
	db.exec(
		"INSERT INTO s.t VALUES (3, 'w', 3.00)",
		"ALTER TABLE s.t RENAME COLUMN b TO bb",
		"INSERT INTO s.t VALUES (4, 'v', 4.00)",
		"ALTER TABLE s.t MODIFY c DECIMAL(7,3) AFTER id",
		"INSERT INTO s.t VALUES (5, 5.125, 'u')",
		"ALTER TABLE s.t CONVERT TO CHARACTER SET latin1",
		"INSERT INTO s.t VALUES (6, 6, 'é')",
		"RENAME TABLE s.t TO s.t2",
		"INSERT INTO s.t2 VALUES (7, 7, 'r')",
		"CREATE TABLE s.n (id INT PRIMARY KEY)",
		"INSERT INTO s.n VALUES (1)",
		"TRUNCATE TABLE s.n",
		"INSERT INTO s.n VALUES (2)",
		"DROP TABLE s.n",
		"DELETE FROM s.t2 WHERE id = 1")
	p = startTributary(t, append([]string{"resume"}, args...)...)
	waitForEvents(t, p, nc, "TRIBUTARY_DDL", 11)
	if code := p.stop(); code != 0 {
		t.Fatalf("resume exited %d after SIGTERM, want 0\n%s", code, p.stderr)
	}

	type row struct{ Type, Before, After string }
	want := []row{
		{"s.t.created", "null", `{"id":1,"a":10,"b":"x"}`},
		{"s.t.created", "null", `{"id":2,"a":20,"b":"y","c":"2.25"}`},
		{"s.t.updated", `{"id":2,"b":"y","c":"2.25"}`, `{"id":2,"b":"z","c":"2.25"}`},
		{"s.t.created", "null", `{"id":3,"b":"w","c":"3.00"}`},
		{"s.t.created", "null", `{"id":4,"bb":"v","c":"4.00"}`},
		{"s.t.created", "null", `{"id":5,"c":"5.125","bb":"u"}`},
		{"s.t.created", "null", `{"id":6,"c":"6.000","bb":"é"}`},
		{"s.t2.created", "null", `{"id":7,"c":"7.000","bb":"r"}`},
		{"s.n.created", "null", `{"id":1}`},
		{"s.n.created", "null", `{"id":2}`},
		{"s.t2.deleted", `{"id":1,"c":"1.500","bb":"x"}`, "null"},
	}
	lines := tailAll(t, ns.url(), "TRIBUTARY_DDL")
	var have []row
	var versions []string
	for _, e := range decodeEvents(t, lines) {
		have = append(have, row{e.Type, compact(t, e.Data.Before), compact(t, e.Data.After)})
	}
	for _, l := range lines {
		var v struct {
			Version string `json:"schemaversion"`
		}
		if err := json.Unmarshal(l, &v); err != nil || len(v.Version) != 16 {
			t.Fatalf("event without a 16-digit schemaversion (%v): %s", err, l)
		}
		versions = append(versions, v.Version)
	}
	for i := range want {
		want[i].Before, want[i].After = compact(t, []byte(want[i].Before)), compact(t, []byte(want[i].After))
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	// Same definition, same version: rows 3 and 4 (after DROP a), 7 and 8
	// (the rename changed no column), 9 and 10 (TRUNCATE changed none).
	for _, same := range [][2]int{{2, 3}, {6, 7}, {8, 9}} {
		if versions[same[0]] != versions[same[1]] {
			t.Errorf("events %d and %d: versions %s and %s, want the same", same[0], same[1], versions[same[0]], versions[same[1]])
		}
	}
	// Every change of columns or types, a new version.
	for _, changed := range [][2]int{{0, 1}, {1, 2}, {3, 4}, {4, 5}, {5, 6}} {
		if versions[changed[0]] == versions[changed[1]] {
			t.Errorf("events %d and %d: version %s for both, want a new one after the DDL between them", changed[0], changed[1], versions[changed[0]])
		}
	}
}
