package binlog

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// TestSchemaVersion: the version is the same for the same definition, and
// changes with anything that changes how rows are written.
func TestSchemaVersion(t *testing.T) {
	base := func() *replication.TableMapEvent {
		return &replication.TableMapEvent{
			TableID: 1, Schema: []byte("shop"), Table: []byte("orders"), ColumnCount: 3,
			ColumnType:       []byte{mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_NEWDECIMAL},
			ColumnMeta:       []uint16{0, 200, 10<<8 | 2},
			ColumnName:       [][]byte{[]byte("id"), []byte("note"), []byte("total")},
			PrimaryKey:       []uint64{0},
			DefaultCharset:   []uint64{45},
			SignednessBitmap: []byte{0},
		}
	}
	version := func(tm *replication.TableMapEvent) string {
		t.Helper()
		tb, err := newTable(tm, "p", fakeCatalog{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tb.version
	}
	v := version(base())
	if len(v) != 16 {
		t.Fatalf("version %q, want 16 hex digits", v)
	}
	if again := version(base()); again != v {
		t.Fatalf("the same definition gives %s, then %s", v, again)
	}
	changes := map[string]func(*replication.TableMapEvent){
		"column renamed":    func(tm *replication.TableMapEvent) { tm.ColumnName[1] = []byte("comment") },
		"VARCHAR longer":    func(tm *replication.TableMapEvent) { tm.ColumnMeta[1] = 400 },
		"DECIMAL scale":     func(tm *replication.TableMapEvent) { tm.ColumnMeta[2] = 10<<8 | 3 },
		"INT to BIGINT":     func(tm *replication.TableMapEvent) { tm.ColumnType[0] = mysql.MYSQL_TYPE_LONGLONG },
		"INT made UNSIGNED": func(tm *replication.TableMapEvent) { tm.SignednessBitmap = []byte{0x80} },
		"charset to latin1": func(tm *replication.TableMapEvent) { tm.DefaultCharset = []uint64{8} },
		"columns reordered": func(tm *replication.TableMapEvent) {
			tm.ColumnName[1], tm.ColumnName[2] = tm.ColumnName[2], tm.ColumnName[1]
			tm.ColumnType[1], tm.ColumnType[2] = tm.ColumnType[2], tm.ColumnType[1]
			tm.ColumnMeta[1], tm.ColumnMeta[2] = tm.ColumnMeta[2], tm.ColumnMeta[1]
		},
		"column added": func(tm *replication.TableMapEvent) {
			tm.ColumnCount++
			tm.ColumnType = append(tm.ColumnType, mysql.MYSQL_TYPE_LONG)
			tm.ColumnMeta = append(tm.ColumnMeta, 0)
			tm.ColumnName = append(tm.ColumnName, []byte("qty"))
		},
	}
	for name, change := range changes {
		tm := base()
		change(tm)
		if got := version(tm); got == v {
			t.Errorf("%s: version stays %s", name, v)
		}
	}
}
