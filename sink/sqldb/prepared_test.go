package sqldb_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqldb"
	"github.com/tributary-cdc/tributary/sink/sqlite"
)

// countingDriver is SQLite's driver, counting the upserts of items
// prepared on it by their rows. Its connections have no ExecerContext, so
// that every statement run without a prepared one is prepared for the run.
type countingDriver struct {
	driver.Driver
	mu       sync.Mutex
	prepares map[string]int
}

func (d *countingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, d: d}, nil
}

func (d *countingDriver) take() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.prepares
	d.prepares = map[string]int{}
	return p
}

type countingConn struct {
	driver.Conn
	d *countingDriver
}

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	if strings.HasPrefix(query, `INSERT INTO "items"`) {
		c.d.mu.Lock()
		c.d.prepares[fmt.Sprintf("upsert of %d rows", strings.Count(query, "?")/2)]++
		c.d.mu.Unlock()
	}
	return c.Conn.Prepare(query)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func init() {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	sql.Register("sqlite-counting", &countingDriver{Driver: db.Driver(), prepares: map[string]int{}})
	db.Close()
}

// TestPrepared: within a transaction, the statement of a full chunk (1,000
// rows of items) is prepared once and run for every full chunk; a smaller
// last chunk is run on its own; DDL forgets the prepared statements, which
// are prepared again after it. The rows are all written.
func TestPrepared(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite-counting", "file:"+filepath.Join(t.TempDir(), "p.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := db.Driver().(*countingDriver)
	tg := sqldb.New(db, sqlite.Dialect{}, "s")
	other := sink.Table{Name: sink.TableName{Database: "shop", Table: "other"}, Columns: items.Columns, Key: items.Key}
	err = write(ctx, tg, sink.Live, 1, func(tx sink.Tx) error {
		if err := tx.CreateTable(ctx, items); err != nil {
			return err
		}
		d.take()
		if err := tx.Upsert(ctx, items, itemRows(0, 3500)); err != nil {
			return err
		}
		if diff := cmp.Diff(map[string]int{"upsert of 1000 rows": 1, "upsert of 500 rows": 1}, d.take()); diff != "" {
			t.Errorf("3,500 rows: statements prepared (-want +got):\n%s", diff)
		}
		if err := tx.Upsert(ctx, items, itemRows(3500, 2000)); err != nil {
			return err
		}
		if diff := cmp.Diff(map[string]int{}, d.take()); diff != "" {
			t.Errorf("2,000 more rows in the same transaction: statements prepared (-want +got):\n%s", diff)
		}
		if err := tx.CreateTable(ctx, other); err != nil {
			return err
		}
		d.take()
		if err := tx.Upsert(ctx, items, itemRows(5500, 1000)); err != nil {
			return err
		}
		if diff := cmp.Diff(map[string]int{"upsert of 1000 rows": 1}, d.take()); diff != "" {
			t.Errorf("1,000 rows after DDL: statements prepared (-want +got):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n, sum int
	if err := db.QueryRow(`SELECT COUNT(*), SUM(v) FROM "items"`).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if want := 6500 * 6499 / 2 * 10; n != 6500 || sum != want {
		t.Fatalf("items holds %d rows summing to %d, want 6500 summing to %d", n, sum, want)
	}
}
