package integration

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// event is the part of a stored CloudEvent the tests look at.
type event struct {
	SpecVersion string `json:"specversion"`
	ID          string `json:"id"`
	Source      string `json:"source"`
	Type        string `json:"type"`
	Subject     string `json:"subject"`
	Time        string `json:"time"`
	ContentType string `json:"datacontenttype"`
	TxID        string `json:"txid"`
	GTID        string `json:"gtid"`
	BinlogFile  string `json:"binlogfile"`
	BinlogPos   uint64 `json:"binlogpos"`
	TxIndex     int    `json:"txindex"`
	TxLast      bool   `json:"txlast"`
	Data        struct {
		Op     string          `json:"op"`
		Key    json.RawMessage `json:"key"`
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
		// JSONNull names, per image, the JSON columns whose document is
		// the JSON literal null.
		JSONNull map[string][]string `json:"jsonnull"`
	} `json:"data"`
}

func decodeEvents(t testing.TB, lines [][]byte) []event {
	t.Helper()
	evs := make([]event, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal(l, &evs[i]); err != nil {
			t.Fatalf("event %d is not valid JSON: %v\n%s", i, err, l)
		}
	}
	return evs
}

// compact re-encodes JSON so that equal documents compare equal as strings.
func compact(t testing.TB, raw []byte) string {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestStartTailResume drives the main path as a user would: start on a
// fresh stream, write inserts, updates, deletes and a rolled-back
// transaction, read the events with tail, stop, write more, check that
// start refuses, and resume.
func TestStartTailResume(t *testing.T) {
	db := startMariaDB(t)
	ns := startNATS(t)
	db.exec("CREATE DATABASE shop",
		`CREATE TABLE shop.customers (
			id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, balance DECIMAL(12,2), big BIGINT UNSIGNED,
			small TINYINT, ratio DOUBLE, f FLOAT, born DATE, seen DATETIME(3), ts TIMESTAMP(6) NULL, t TIME(2), y YEAR,
			doc JSON, tags SET('a','b','c'), tier ENUM('new','gold'), raw VARBINARY(8), note TEXT, l1 VARCHAR(10) CHARACTER SET latin1
		)`,
		"CREATE TABLE shop.orders (customer INT, n INT, total DECIMAL(10,2), PRIMARY KEY (customer, n))",
		"CREATE TABLE shop.ignored (id INT PRIMARY KEY)")

	args := []string{"--source", db.sourceURL(), "--nats", ns.url(), "--name", "shop", "--server-id", "4242", "--include", "shop.customers,shop.orders"}
	p := startTributary(t, append([]string{"start"}, args...)...)
	p.waitStreaming()

	db.exec(
		`INSERT INTO shop.customers VALUES
			(1, 'Ann "A" 😀', 12.50, 18446744073709551615, -128, 0.1, 1.5, '2024-02-29', '2024-02-29 23:59:59.123',
			 '2038-01-19 03:14:07.999999', '-838:59:59.00', 2155, '{"k": [1, "x", null]}', 'a,c', 'gold', 0x00FF, 'multi\nline', X'636166E9'),
			(2, 'Bob', -0.01, 0, 127, -1e300, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', 'new', '', NULL, NULL)`,
		"UPDATE shop.customers SET name = 'Bobby', balance = 100.00 WHERE id = 2",
		"INSERT INTO shop.ignored VALUES (1)",
		"BEGIN", "INSERT INTO shop.customers (id, name) VALUES (3, 'never')", "ROLLBACK",
		"INSERT INTO shop.orders VALUES (1, 1, 9.99), (1, 2, 0.01)",
		"DELETE FROM shop.customers WHERE id = 1")
	nc := ns.connect()
	waitFor(t, 30*time.Second, "6 events", func() bool { return streamMsgs(t, nc, "TRIBUTARY_SHOP") == 6 })
	if code := p.stop(); code != 0 {
		t.Fatalf("start exited %d after SIGTERM, want 0\n%s", code, p.stderr)
	}

	evs := decodeEvents(t, tailAll(t, ns.url(), "TRIBUTARY_SHOP"))
	ann := `{"id":1,"name":"Ann \"A\" 😀","balance":"12.50","big":18446744073709551615,"small":-128,"ratio":0.1,"f":1.5,` +
		`"born":"2024-02-29","seen":"2024-02-29 23:59:59.123","ts":"2038-01-19T03:14:07.999999Z","t":"-838:59:59.00","y":2155,` +
		`"doc":{"k":[1,"x",null]},"tags":["a","c"],"tier":"gold","raw":"AP8=","note":"multi\nline","l1":"café"}`
	bob := `{"id":2,"name":"Bob","balance":"-0.01","big":0,"small":127,"ratio":-1e+300,"f":null,"born":null,"seen":null,"ts":null,"t":null,"y":null,"doc":null,"tags":[],"tier":"new","raw":"","note":null,"l1":null}`
	bobby := strings.Replace(strings.Replace(bob, `"Bob"`, `"Bobby"`, 1), `"-0.01"`, `"100.00"`, 1)
	type got struct {
		Type, Subject, Op, Key, Before, After string
		Index                                 int
		Last                                  bool
	}
	want := []got{
		{"shop.customers.created", "shop.customers.1", "c", `{"id":1}`, "null", ann, 0, false},
		{"shop.customers.created", "shop.customers.2", "c", `{"id":2}`, "null", bob, 1, true},
		{"shop.customers.updated", "shop.customers.2", "u", `{"id":2}`, bob, bobby, 0, true},
		{"shop.orders.created", "shop.orders.1,1", "c", `{"customer":1,"n":1}`, "null", `{"customer":1,"n":1,"total":"9.99"}`, 0, false},
		{"shop.orders.created", "shop.orders.1,2", "c", `{"customer":1,"n":2}`, "null", `{"customer":1,"n":2,"total":"0.01"}`, 1, true},
		{"shop.customers.deleted", "shop.customers.1", "d", `{"id":1}`, ann, "null", 0, true},
	}
	var have []got
	for _, e := range evs {
		have = append(have, got{e.Type, e.Subject, e.Data.Op, compact(t, e.Data.Key), compact(t, e.Data.Before), compact(t, e.Data.After), e.TxIndex, e.TxLast})
	}
	for i := range want {
		for _, s := range []*string{&want[i].Before, &want[i].After} {
			*s = compact(t, []byte(*s))
		}
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	for i, e := range evs {
		if e.SpecVersion != "1.0" || e.Source != "/tributary/shop" || e.ContentType != "application/json" || e.GTID == "" || e.TxID != e.GTID {
			t.Errorf("event %d envelope = %+v, want CloudEvents 1.0 from /tributary/shop with a GTID as txid", i, e)
		}
		if wantID := "shop:" + e.TxID + ":" + strconv.Itoa(e.TxIndex); e.ID != wantID {
			t.Errorf("event %d id = %q, want %q", i, e.ID, wantID)
		}
		if _, err := time.Parse(time.RFC3339, e.Time); err != nil {
			t.Errorf("event %d time %q: %v", i, e.Time, err)
		}
	}

	// start refuses a stream that already holds this source's events.
	code, _, errOut := runTributary(t, time.Minute, append([]string{"start"}, args...)...)
	if code != 3 || !strings.Contains(errOut, "run tributary resume") {
		t.Fatalf("second start exited %d, want 3 with a hint to resume; stderr:\n%s", code, errOut)
	}

	// Changes made while stopped are picked up by resume, once each.
	db.exec("INSERT INTO shop.orders VALUES (2, 1, 5.00)", "UPDATE shop.orders SET total = 6.00 WHERE customer = 2")
	p = startTributary(t, append([]string{"resume"}, args...)...)
	waitFor(t, 30*time.Second, "8 events", func() bool { return streamMsgs(t, nc, "TRIBUTARY_SHOP") == 8 })
	db.exec("DELETE FROM shop.orders WHERE customer = 2")
	waitFor(t, 30*time.Second, "9 events", func() bool { return streamMsgs(t, nc, "TRIBUTARY_SHOP") == 9 })
	if code := p.stop(); code != 0 {
		t.Fatalf("resume exited %d after SIGTERM, want 0\n%s", code, p.stderr)
	}
	evs = decodeEvents(t, tailAll(t, ns.url(), "TRIBUTARY_SHOP"))
	var tail []string
	for _, e := range evs[6:] {
		tail = append(tail, e.Type+" "+e.Subject)
	}
	wantTail := []string{"shop.orders.created shop.orders.2,1", "shop.orders.updated shop.orders.2,1", "shop.orders.deleted shop.orders.2,1"}
	if diff := cmp.Diff(wantTail, tail); diff != "" {
		t.Fatalf("events after resume (-want +got):\n%s", diff)
	}
}
