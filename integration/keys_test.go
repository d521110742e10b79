package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-cdc/tributary"
)

// TestKeys: which columns identify a row, and the subject built from them,
// for every kind of table: a configured key wins, then the primary key,
// then the first unique key without nullable columns; a table with none
// of these still gets a subject. Key values with dots, spaces, wildcards,
// separators and non-ASCII characters round-trip through the subject.
func TestKeys(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec("CREATE DATABASE k",
		"CREATE TABLE k.pk (id INT PRIMARY KEY, code VARCHAR(10) NOT NULL UNIQUE)",
		"CREATE TABLE k.uniq (a INT NULL, b VARCHAR(10) NOT NULL, c INT NOT NULL, v INT, UNIQUE KEY u_null (a), UNIQUE KEY u_nn (b, c))",
		"CREATE TABLE k.conf (x INT, y VARCHAR(10), v INT)",
		"CREATE TABLE k.override (id INT PRIMARY KEY, code VARCHAR(10))",
		"CREATE TABLE k.none (v INT, w TEXT)",
		"CREATE TABLE k.odd (s VARCHAR(40), n DECIMAL(6,2), d DATETIME(3), PRIMARY KEY (s, n, d))",
		"CREATE TABLE `k`.`we.ird tbl*` (`i.d` INT PRIMARY KEY)")

	// A configured key naming a column the table lacks is refused before
	// anything is written.
	args := []string{"--source", db.sourceURL(), "--nats", ns.url(), "--name", "keys", "--server-id", "4545"}
	code, _, errOut := runTributary(t, time.Minute, append([]string{"start"}, append(args, "--keys", "k.conf=x+zz")...)...)
	if code != 3 || !strings.Contains(errOut, "table k.conf has no column zz") {
		t.Fatalf("start with a bad --keys exited %d, want 3 naming the missing column; stderr:\n%s", code, errOut)
	}
	if streamExists(t, ns, "TRIBUTARY_KEYS") {
		t.Fatal("a refused start created the stream")
	}

	p := startTributary(t, append([]string{"start"}, append(args, "--keys", "k.conf=x+y,k.override=code")...)...)
	p.waitStreaming()
	oddKeys := []string{"a.b c", "*", ">", "x,y", "%", "", "Grüße 😀", "tab\there"}
	stmts := []string{
		"INSERT INTO k.pk VALUES (1, 'one')",
		"INSERT INTO k.uniq VALUES (NULL, 'b.1', 2, 0)",
		"UPDATE k.uniq SET v = 1",
		"INSERT INTO k.conf VALUES (7, 'y y', 0)",
		"INSERT INTO k.override VALUES (1, 'c-1')",
		"INSERT INTO k.none VALUES (1, 'x')",
		"DELETE FROM k.none",
		"INSERT INTO `k`.`we.ird tbl*` VALUES (5)",
	}
	for i, s := range oddKeys {
		stmts = append(stmts, "INSERT INTO k.odd VALUES ('"+strings.ReplaceAll(s, "'", "''")+"', "+[]string{"-1.50", "0.00", "9999.99", "1.00"}[i%4]+", '2024-02-29 23:59:59.001')")
	}
	db.exec(stmts...)
	nc := ns.connect()
	want := 8 + len(oddKeys)
	waitForEvents(t, p, nc, "TRIBUTARY_KEYS", want)
	if code := p.stop(); code != 0 {
		t.Fatalf("start exited %d after SIGTERM, want 0\n%s", code, p.stderr)
	}

	type got struct{ Type, Subject, Key string }
	var have []got
	evs := decodeEvents(t, tailAll(t, ns.url(), "TRIBUTARY_KEYS"))
	for _, e := range evs {
		have = append(have, got{e.Type, e.Subject, compact(t, e.Data.Key)})
	}
	wantEvents := []got{
		{"k.pk.created", "k.pk.1", `{"id":1}`},
		{"k.uniq.created", "k.uniq.b%2E1,2", `{"b":"b.1","c":2}`},
		{"k.uniq.updated", "k.uniq.b%2E1,2", `{"b":"b.1","c":2}`},
		{"k.conf.created", "k.conf.7,y%20y", `{"x":7,"y":"y y"}`},
		{"k.override.created", "k.override.c-1", `{"code":"c-1"}`},
		{"k.none.created", "k.none.~", `{}`},
		{"k.none.deleted", "k.none.~", `{}`},
		{"k.we.ird tbl*.created", "k.we%2Eird%20tbl%2A.5", `{"i.d":5}`},
	}
	if diff := cmp.Diff(wantEvents, have[:8]); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}

	// Every odd key value comes back from its subject, as the event's key
	// object has it.
	for i, e := range evs[8:] {
		token := strings.TrimPrefix(e.Subject, "k.odd.")
		values, ok := tributary.UnescapeKey(token)
		if !ok {
			t.Fatalf("subject %q: token %q does not unescape", e.Subject, token)
		}
		var key struct {
			S string `json:"s"`
			N string `json:"n"` // DECIMAL: a string
			D string `json:"d"`
		}
		if err := json.Unmarshal(e.Data.Key, &key); err != nil {
			t.Fatal(err)
		}
		wantValues := []string{oddKeys[i], []string{"-1.50", "0.00", "9999.99", "1.00"}[i%4], "2024-02-29 23:59:59.001"}
		if diff := cmp.Diff(wantValues, values); diff != "" {
			t.Errorf("subject %q unescapes to (-want +got):\n%s", e.Subject, diff)
		}
		if key.S != oddKeys[i] || key.N != wantValues[1] || key.D != wantValues[2] {
			t.Errorf("key %s, want s=%q n=%s d=%s", e.Data.Key, oddKeys[i], wantValues[1], wantValues[2])
		}
		if strings.ContainsAny(token, ".*> \t") {
			t.Errorf("subject token %q holds a character NATS reads as structure", token)
		}
	}

	// resume without --keys takes the keys the stream recorded, and checks
	// them against the source as it would --keys: a key column dropped
	// meanwhile is refused before anything is written.
	db.exec("ALTER TABLE k.conf DROP COLUMN y")
	code, _, errOut = runTributary(t, time.Minute, append([]string{"resume"}, args...)...)
	if code != 3 || !strings.Contains(errOut, "table k.conf has no column y") {
		t.Fatalf("resume with recorded keys naming a dropped column exited %d, want 3 naming it; stderr:\n%s", code, errOut)
	}
	if n := streamMsgs(t, nc, "TRIBUTARY_KEYS"); n != uint64(want) {
		t.Fatalf("the refused resume left %d events, want %d", n, want)
	}
}
