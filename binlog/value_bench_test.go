package binlog

import (
	"path/filepath"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"
)

// BenchmarkAppendText: text values, as go-mysql hands them over (string for
// VARCHAR, []byte for TEXT), are not copied on their way into the body:
// 0 allocations per value.
func BenchmarkAppendText(b *testing.B) {
	c := &column{kind: kindText}
	text := "customer-00012345 lorem ipsum dolor sit amet, consectetur adipiscing"
	var s, bs any = text, []byte(text) // boxed, as go-mysql hands them over
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = appendValue(buf[:0], c, s)
		buf, _ = appendValue(buf[:0], c, bs)
	}
}

// BenchmarkDecodeRows measures rows/s from a recorded rows event's bytes to
// the JSON row image (go-mysql's decoding plus Tributary's encoding), for a
// row of every type family (the g.texts, g.nums and g.times rows of the
// golden binlog) beside a plain row (g.nokey: INT, VARCHAR).
func BenchmarkDecodeRows(b *testing.B) {
	dir := filepath.Join("testdata", "golden")
	setup, rows := recordedEvents(b, filepath.Join(dir, "mariadb-10.11.binlog"), FlavorMariaDB)
	cat := loadGoldenCatalog(b, dir)
	p := newParser(FlavorMariaDB)
	// go-mysql forgets table maps at the end of each statement: keep each
	// one's bytes, to parse it again before its rows.
	maps := map[uint64][]byte{}
	for _, s := range setup {
		ev, err := p.Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		if tm, ok := ev.Event.(*replication.TableMapEvent); ok {
			maps[tm.TableID] = s
		}
	}
	parse := func(raw []byte) *replication.BinlogEvent {
		// The table id sits right after the 19-byte header (6 bytes).
		id := uint64(raw[19]) | uint64(raw[20])<<8 | uint64(raw[21])<<16 | uint64(raw[22])<<24 | uint64(raw[23])<<32 | uint64(raw[24])<<40
		if _, err := p.Parse(maps[id]); err != nil {
			b.Fatal(err)
		}
		ev, err := p.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		return ev
	}
	// The first insert of each table holding non-NULL values.
	pick := map[string][]byte{}
	for _, r := range rows {
		ev := parse(r)
		re := ev.Event.(*replication.RowsEvent)
		name := string(re.Table.Table)
		if _, ok := pick[name]; !ok && ev.Header.EventType == replication.WRITE_ROWS_EVENTv1 && len(re.Rows) >= 2 || name == "nokey" && pick[name] == nil {
			pick[name] = r
		}
	}
	for _, bench := range []struct {
		name   string
		tables []string
	}{{"every-type", []string{"nums", "times", "texts"}}, {"plain", []string{"nokey"}}} {
		b.Run(bench.name, func(b *testing.B) {
			var events [][]byte
			for _, tbl := range bench.tables {
				if pick[tbl] == nil {
					b.Fatalf("no recorded insert into g.%s", tbl)
				}
				events = append(events, pick[tbl])
			}
			tables := map[uint64]*table{}
			buf := make([]byte, 0, 4096)
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				for _, raw := range events {
					re := parse(raw).Event.(*replication.RowsEvent)
					t, ok := tables[re.TableID]
					if !ok {
						var err error
						if t, err = newTable(re.Table, "p", cat, nil); err != nil {
							b.Fatal(err)
						}
						tables[re.TableID] = t
					}
					for _, row := range re.Rows {
						var nulls []string
						var err error
						if buf, err = appendRow(buf[:0], t, row, &nulls); err != nil {
							b.Fatal(err)
						}
						n++
					}
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
